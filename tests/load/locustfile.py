"""Locust users for `make load`: CSRs and technicians working the demo company at large scale.

CSRs look customers up by phone, open the callback list and a callback, and work the follow-up call queue
("next call", then a no-answer that puts the call back for its retry); technicians open My day and the
briefing of each visit. A claim seen by two CSRs at once is counted as a double claim (there must be none).
"""

import itertools
import random
import re

from locust import HttpUser, between, events, task

PASSWORD = "demo"
CSRS = ["csr"] + [f"csr{n}" for n in range(2, 13)]
TECHNICIANS = ["technician"] + [f"tech{n}" for n in range(2, 41)]
held_calls = {}  # call id -> username, for the calls currently claimed by a simulated CSR
double_claims = []


def _csrf(client):
    return client.cookies.get("csrftoken", "")


class Staff(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    usernames = []
    numbers = itertools.count()

    def on_start(self):
        # One simulated user per login, as in a real office: a CSR's claim is theirs alone.
        self.username = self.usernames[next(self.numbers) % len(self.usernames)]
        self.client.get("/accounts/login/", name="login page")
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(self.client)},
            name="log in",
        )
        if "/accounts/login/" in response.url:
            response.failure(f"{self.username} could not log in")


class CSR(Staff):
    weight = 3
    usernames = CSRS
    numbers = itertools.count()

    @task(3)
    def today(self):
        self.client.get("/", name="today")

    @task(3)
    def find_customer_by_phone(self):
        area = random.choice(["312", "773", "847", "630", "708"])
        self.client.get(f"/customers/?q=({area})+555-{random.randint(0, 9999):04d}", name="customer search by phone")

    @task(3)
    def callbacks(self):
        response = self.client.get("/callbacks/", name="callback list")
        found = re.findall(r'href="/callbacks/(\d+)/"', response.text)
        if found:
            self.client.get(f"/callbacks/{random.choice(found)}/", name="callback detail")

    @task(2)
    def work_a_follow_up_call(self):
        response = self.client.post("/calls/next/", {"csrfmiddlewaretoken": _csrf(self.client)}, name="next call")
        match = re.search(r"/calls/(\d+)/$", response.url)
        if not match:
            return  # nothing due
        call = match.group(1)
        holder = held_calls.get(call)
        if holder and holder != self.username:
            double_claims.append((call, holder, self.username))
        held_calls[call] = self.username
        self.client.post(
            f"/calls/{call}/attempt/",
            {"outcome": "no_answer", "note": "load test", "csrfmiddlewaretoken": _csrf(self.client)},
            name="record a no-answer",
        )
        held_calls.pop(call, None)


class Technician(Staff):
    weight = 2
    usernames = TECHNICIANS
    numbers = itertools.count()

    @task
    def my_day_and_briefings(self):
        response = self.client.get("/", name="my day")
        for job in re.findall(r'href="/jobs/(\d+)/briefing/"', response.text)[:3]:
            self.client.get(f"/jobs/{job}/briefing/", name="briefing")


@events.quitting.add_listener
def report_double_claims(environment, **kwargs):
    print(f"double claims: {len(double_claims)}")
    if double_claims:
        environment.process_exit_code = 1
