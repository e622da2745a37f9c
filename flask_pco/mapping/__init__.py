"""PCO's JSON:API resources ↔ plain values for local rows: pure functions, no I/O.

Mapping takes parsed documents from ``client.jsonapi`` and returns dataclasses and dicts; it
imports nothing that touches the database, Flask, Redis or the network, so every rule about
PCO's data can be tested on a dict.
"""
