"""Alerts (issue 11): rules of users (alerts.store), their evaluation over the warehouse (alerts.evaluate),
channels (in-app, e-mail, webhook: alerts.channels) and delivery with retries, quiet hours and the delivery
log (alerts.deliver). Run by the scheduler process only (service/jobs.py), or `python app.py alerts run`."""
