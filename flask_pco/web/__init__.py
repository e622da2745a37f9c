"""The web layer: the admin page (``/admin/pco-sync``) and its data, the read-only PCO views,
and the webhook route (``POST /api/pco/webhook``).

Blueprints only: each view parses the request, calls ``jobs`` or ``sync`` with the app's
``PcoState`` and renders the answer. It may import every layer below; nothing imports it but
``extension``, which registers the blueprints. Templates stay in ``flask_pco/templates/pco/``.
"""
