#!/bin/sh
# A management command with the installation's environment, for cron and for people:
#   /srv/aid-alliance/deploy/manage.sh seal_access_records
# The environment file is /etc/aid-alliance/aid-alliance.env unless AID_ALLIANCE_ENV names another.
set -eu
cd "$(dirname "$0")/.."
set -a
. "${AID_ALLIANCE_ENV:-/etc/aid-alliance/aid-alliance.env}"
set +a
exec .venv/bin/python manage.py "$@"
