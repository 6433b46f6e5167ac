from flask.cli import AppGroup

audit = AppGroup("audit", help="Read the audit log.")
