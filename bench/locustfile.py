"""Locust load profile for bin/bench-http: agents, API clients and customers.

Run headless by bin/bench-http against a gunicorn that serves a database
filled by ``manage.py seed_benchmark``. The seeded users are ``bench<n>``
(agents) and ``bench-api<n>`` (integrations), all with BENCH_PASSWORD.

Environment:
    BENCH_PASSWORD      password of the seeded users
    BENCH_AGENTS        seeded agent accounts to spread the agents over
    BENCH_INTEGRATIONS  seeded integration accounts
    BENCH_ORDERS        seeded orders, for the refund form's lookups
    BENCH_API_USERS     concurrent API clients (fixed count)
    BENCH_CUSTOMERS     concurrent customers on the refund form (fixed count)
    BENCH_WAIT_MIN, BENCH_WAIT_MAX  think time of every user, in seconds
    BENCH_AGENT_USERS   concurrent agents
    BENCH_DURATION_SECONDS  how long to measure once every agent logged in
    BENCH_SERVER_PID    gunicorn's master process, whose CPU time is reported

Every other user that Locust starts is an agent. The statistics start
when the last agent has logged in, because a login hashes the password on
purpose slowly and a hundred of them would crowd out the workload, and the
test stops BENCH_DURATION_SECONDS later.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from http.cookiejar import DefaultCookiePolicy

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password")
AGENT_ACCOUNTS = int(os.environ.get("BENCH_AGENTS", "150"))
INTEGRATION_ACCOUNTS = int(os.environ.get("BENCH_INTEGRATIONS", "5"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "500000"))
CUSTOMERS = ORDERS // 5
WAIT = between(
    float(os.environ.get("BENCH_WAIT_MIN", "2")),
    float(os.environ.get("BENCH_WAIT_MAX", "8")),
)
AGENT_USERS = int(os.environ.get("BENCH_AGENT_USERS", "100"))
DURATION_SECONDS = float(os.environ.get("BENCH_DURATION_SECONDS", "180"))
# The refund form's default return window is 30 days, and seeded order n
# was placed n minutes ago, so the first 40,000 orders are inside it.
RECENT_ORDERS = min(ORDERS, 40_000)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(C-\d+)/"')
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')
REFUND_APPROVE = re.compile(r'action="/refunds/(R-\d+)/approve/"')
ORDER_URL = re.compile(r"/refund/orders/(\d+)/")
QUANTITY_INPUT = re.compile(r'name="(qty-\d+)"')

# Filters an agent picks on the queue page, with the Locust name they are
# reported under.
QUEUE_FILTERS = [
    ("queue all active", ""),
    ("queue mine", "view=mine"),
    ("queue unassigned", "view=unassigned"),
    ("queue breaching", "view=breaching"),
    ("queue refunds", "view=refunds"),
    ("queue all statuses p2-40", "status=all&page={page}"),
    ("queue search common word", "q=parcel&status=all"),
    ("queue search rare words", "q={word}&status=all"),
    ("queue tag", "tag=vip&status=all"),
]
RARE_WORDS = ["lomi", "kavo", "neru", "tazi", "peshu", "voka", "rumi"]
HTMX = {"HX-Request": "true"}

_agent_numbers = itertools.count()
_api_numbers = itertools.count()
_logins = itertools.count(1)


def server_cpu_seconds() -> float | None:
    """Return the CPU time of gunicorn's master and workers, exited ones too.

    Linux only: reads /proc. A worker that gunicorn restarted (max_requests)
    counts in the master's cutime and cstime once the master reaped it.
    """
    master = os.environ.get("BENCH_SERVER_PID")
    if not master:
        return None
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rpartition(")")[2].split()
        except FileNotFoundError:
            continue  # the process exited meanwhile
        # After the name: state, ppid, ..., then utime, stime, cutime and
        # cstime, fields 14 to 17 of proc(5).
        if pid == master or fields[1] == master:
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


_cpu_at_start: list[float] = []


def count_login(environment) -> None:
    """Start the statistics and the timer once every agent tried to log in."""
    if next(_logins) != AGENT_USERS:
        return
    environment.runner.stats.reset_all()
    cpu = server_cpu_seconds()
    if cpu is not None:
        _cpu_at_start.append(cpu)
    print(f"All {AGENT_USERS} agents logged in; measuring for {DURATION_SECONDS} s.")
    gevent.spawn_later(DURATION_SECONDS, environment.runner.quit)


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    if match is None:
        raise ValueError("No CSRF token in the page.")
    return match.group(1)


def expect(response, *statuses: int) -> None:
    """Mark ``response`` failed unless its status is one of ``statuses``."""
    if response.status_code not in statuses:
        response.failure(f"status {response.status_code}, expected {statuses}")
    else:
        response.success()


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Send Secure cookies over the plain HTTP of the loopback interface.

    With DEBUG off the desk marks its session and CSRF cookies Secure. In
    production a TLS proxy sits in front of gunicorn; here the clients talk
    to gunicorn directly, as that proxy would.
    """

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class DeskUser(FastHttpUser):
    abstract = True
    wait_time = WAIT

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(LoopbackCookiePolicy())


class AgentUser(DeskUser):
    """An agent working the queue in a browser, session login with CSRF."""

    weight = 1

    def on_start(self) -> None:
        super().on_start()
        number = next(_agent_numbers) % AGENT_ACCOUNTS
        self.username = f"bench{number}"
        self.cases: list[str] = []
        self.case: str | None = None
        self.version = ""
        self.refund: str | None = None
        self.token = ""
        self._login()

    def _login(self) -> None:
        page = self.client.get("/login/", name="login page")
        with self.client.post(
            "/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf_token(page.text),
            },
            headers={"Referer": f"{self.host}/login/"},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"login of {self.username} failed")
        self._queue("queue all active", "")
        count_login(self.environment)

    def _queue(self, name: str, query: str, htmx: bool = False) -> None:
        with self.client.get(
            f"/queue/?{query}",
            name=f"{name} (htmx)" if htmx else name,
            headers=HTMX if htmx else None,
            catch_response=True,
        ) as response:
            expect(response, 200)
            if response.status_code == 200:
                found = CASE_LINK.findall(response.text)
                self.cases = found or self.cases
                if not htmx:
                    self.token = csrf_token(response.text)

    def _post(self, url: str, name: str, data: dict, *statuses: int, htmx=True):
        headers = {"X-CSRFToken": self.token, "Referer": f"{self.host}/queue/"}
        if htmx:
            headers.update(HTMX)
        with self.client.post(
            url,
            data=data,
            headers=headers,
            allow_redirects=False,
            name=name,
            catch_response=True,
        ) as response:
            expect(response, *statuses)
            return response

    @task(3)
    def queue_page(self) -> None:
        name, query = random.choice(QUEUE_FILTERS)
        query = query.format(page=random.randint(2, 40), word=random.choice(RARE_WORDS))
        self._queue(name, query)

    @task(2)
    def queue_filter_htmx(self) -> None:
        name, query = random.choice(QUEUE_FILTERS[:5])
        self._queue(name, query, htmx=True)

    @task(3)
    def view_counts(self) -> None:
        with self.client.get(
            "/queue/counts/", name="view counts poll", headers=HTMX, catch_response=True
        ) as response:
            expect(response, 200)

    @task(4)
    def open_case(self) -> None:
        if not self.cases:
            return
        self._open(random.choice(self.cases))

    def _open(self, reference: str) -> None:
        with self.client.get(
            f"/cases/{reference}/", name="case page", catch_response=True
        ) as response:
            expect(response, 200)
            if response.status_code != 200:
                return
            self.case = reference
            self.token = csrf_token(response.text)
            version = VERSION_INPUT.search(response.text)
            self.version = version.group(1) if version else ""
            refund = REFUND_APPROVE.search(response.text)
            self.refund = refund.group(1) if refund else None

    @task(6)
    def presence_poll(self) -> None:
        if self.case is None:
            return
        self._post(
            f"/cases/{self.case}/presence/",
            "presence poll",
            {"version": self.version},
            200,
        )

    @task(1)
    def take_next(self) -> None:
        response = self._post("/queue/take-next/", "take next", {}, 302, htmx=False)
        match = re.search(r"/cases/(C-\d+)/", response.headers.get("Location") or "")
        if match:
            self._open(match.group(1))

    @task(1)
    def reply(self) -> None:
        if self.case is None:
            return
        response = self._post(
            f"/cases/{self.case}/reply/",
            "reply",
            {"body": "Thanks, we are looking into it.", "version": self.version},
            # 409: another agent changed the case since it was opened.
            200,
            409,
        )
        version = VERSION_INPUT.search(response.text or "")
        if version:
            self.version = version.group(1)

    @task(1)
    def note(self) -> None:
        if self.case is None:
            return
        self._post(
            f"/cases/{self.case}/note/",
            "note",
            {"body": "Checked the courier's tracking page."},
            # 409: the case is closed, which the "all statuses" views list.
            200,
            409,
        )

    @task(1)
    def refund_decision(self) -> None:
        """Open a case awaiting a refund decision and approve or reject it."""
        self._queue("queue refunds", "view=refunds")
        if not self.cases:
            return
        self._open(random.choice(self.cases))
        if self.refund is None:
            return
        if random.random() < 0.5:
            url, data = "approve", {"amount": "10.00", "reason": ""}
        else:
            url, data = "reject", {"reason": "The item was used."}
        # 409: another agent decided it first.
        self._post(f"/refunds/{self.refund}/{url}/", f"refund {url}", data, 200, 409)


class ApiUser(DeskUser):
    """An integration or an agent's script reading the JSON API with JWT."""

    fixed_count = int(os.environ.get("BENCH_API_USERS", "6"))

    def on_start(self) -> None:
        number = next(_api_numbers)
        # Half the clients are integrations, which see every case; the
        # others are agents, whose cases are limited to their teams.
        if number % 2 == 0:
            self.username = f"bench-api{number // 2 % INTEGRATION_ACCOUNTS}"
        else:
            self.username = f"bench{AGENT_ACCOUNTS - 1 - number // 2}"
        self.access = ""
        self._token()

    def _token(self) -> None:
        response = self.client.post(
            "/api/v1/auth/token/",
            json={"username": self.username, "password": PASSWORD},
            name="api token",
        )
        self.access = response.json().get("access", "") if response.ok else ""

    def _get(self, url: str, name: str):
        with self.client.get(
            url,
            headers={"Authorization": f"Bearer {self.access}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 401:
                # The access token expired: get a new one next time.
                response.success()
                self._token()
                return None
            expect(response, 200)
            return response.json() if response.status_code == 200 else None

    @task(3)
    def cases(self) -> None:
        page = self._get("/api/v1/cases/", "api cases list")
        if page and page.get("results"):
            reference = random.choice(page["results"])["reference"]
            self._get(f"/api/v1/cases/{reference}/", "api case detail")

    @task(2)
    def cases_open(self) -> None:
        self._get("/api/v1/cases/?status=open", "api cases list open")

    @task(2)
    def orders(self) -> None:
        number = random.randrange(ORDERS)
        self._get(f"/api/v1/orders/?number=B{number}", "api orders search")
        self._get(f"/api/v1/orders/B{number}/", "api order detail")

    @task(2)
    def refunds(self) -> None:
        self._get("/api/v1/refunds/", "api refunds list")
        self._get("/api/v1/refunds/?status=requested", "api refunds requested")


class CustomerUser(DeskUser):
    """A customer on the public refund form: lookup, then eligibility checks."""

    fixed_count = int(os.environ.get("BENCH_CUSTOMERS", "10"))

    @task
    def look_up_and_check(self) -> None:
        self.client.cookiejar.clear()
        # Each customer comes from an address of their own. Django reads it
        # from X-Real-IP (RATELIMIT_IP_META_KEY) for the lookup's limits.
        address = {"X-Real-IP": f"10.{random.randrange(256)}.0.{random.randrange(256)}"}
        order_id = self._look_up(address)
        if order_id is None:
            return
        page = self.client.get(
            f"/refund/orders/{order_id}/", name="refund order page", headers=address
        )
        fields = QUANTITY_INPUT.findall(page.text or "")
        if not fields:
            return
        for _ in range(2):
            self._check(order_id, csrf_token(page.text), fields, address)

    def _look_up(self, address: dict) -> str | None:
        """Find a seeded order by number and email; return its id."""
        start = self.client.get("/refund/", name="refund form", headers=address)
        number = random.randrange(RECENT_ORDERS if random.random() < 0.8 else ORDERS)
        with self.client.post(
            "/refund/",
            data={
                "order_number": f"#B{number}",
                "email": f"bench{number % CUSTOMERS}@example.test",
                "csrfmiddlewaretoken": csrf_token(start.text),
            },
            headers={**address, "Referer": f"{self.host}/refund/"},
            allow_redirects=False,
            name="refund lookup",
            catch_response=True,
        ) as response:
            expect(response, 302)
            match = ORDER_URL.search(response.headers.get("Location") or "")
        return match.group(1) if match else None

    def _check(self, order_id: str, token: str, fields: list[str], address: dict):
        """Choose 0 or 1 of each item, as the live eligibility check sends it."""
        with self.client.post(
            f"/refund/orders/{order_id}/check/",
            data={
                "csrfmiddlewaretoken": token,
                "reason_code": "damaged",
                **{field: random.randint(0, 1) for field in fields},
            },
            headers={**address, **HTMX, "Referer": f"{self.host}/refund/"},
            name="refund eligibility check",
            catch_response=True,
        ) as response:
            expect(response, 200)


@events.test_stop.add_listener
def _report_server_cpu(environment, **kwargs) -> None:
    cpu = server_cpu_seconds()
    if not _cpu_at_start or cpu is None:
        return
    used = cpu - _cpu_at_start[0]
    requests = environment.runner.stats.total.num_requests or 1
    print(
        f"gunicorn CPU time while measured: {used:.1f} s, "
        f"{1000 * used / requests:.1f} ms per request"
    )
