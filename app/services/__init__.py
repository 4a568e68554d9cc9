"""The services: every query and every change, one module per concept.

The faces (app/api, app/web) and the commands (app/cli) parse input, call one function here, and
render its result. Services never read the request or build URLs; each public function that
writes owns its transaction (it commits), and records the change in the audit trail first.
"""
