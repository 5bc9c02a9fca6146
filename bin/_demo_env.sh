# Sourced by bin/demo: the environment of the demo server and its worker.
# PORT sets the port. SITE_URL, when set, overrides the base of email links.
PORT="${PORT:-8000}"
export DEBUG=1
export LOG_FORMAT="${LOG_FORMAT:-console}"
# Emails link to this server, so their links work on any PORT.
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
