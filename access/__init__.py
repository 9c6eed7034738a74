"""Who sees what (issue 10): roles, the viewer of a request and its unit scope, the application database
(users, sessions, API tokens, audit log), sign-in and the web guard.

Layers: roles.py and viewer.py know nothing of the web or the database; db.py/models.py and the stores
(users, sessions, tokens, audit) hold the application database; web.py puts them in front of the Flask
server. The analytical warehouse never holds any of this.
"""
