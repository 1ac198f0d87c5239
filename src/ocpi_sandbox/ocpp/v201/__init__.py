"""OCPP 2.0.1 message types, generated from the official schemas.

``messages.ACTIONS`` maps each action name to its (request, response) Structs; ``datatypes`` and ``enums``
hold the nested types. Regenerate with ``.venv/bin/python scripts/generate_ocpp_types.py``.
"""
