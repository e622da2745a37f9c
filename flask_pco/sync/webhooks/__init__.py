"""Webhook deliveries, from PCO's body to local rows: parse (``deliveries``), store once and
apply (``events``), what each event does (``handlers``), and this site's subscriptions.

Applying reuses the pull's single-person helpers, so a delivery obeys the same ownership rules
as a pull. It may import ``sync.pull`` and the shared ``sync`` modules; handing a delivery to
a worker is the job layer's (``flask_pco.jobs.webhooks``).
"""
