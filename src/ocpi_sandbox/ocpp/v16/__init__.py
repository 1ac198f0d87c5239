"""OCPP 1.6 (JSON, with the security extension) message types, generated from the official schemas.

``messages.ACTIONS`` maps each action name to its (request, response) Structs; ``datatypes`` and ``enums``
hold the nested types. Regenerate with ``.venv/bin/python scripts/generate_ocpp_types.py``.
"""
