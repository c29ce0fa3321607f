"""A newcomer's first hour: what the README promises about logging in and configuring matches the code."""

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from customers.demo import Demo, Plan, create_staff
from tests.servicedesk.test_settings import ROOT, settings_variables

README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def _section(title):
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def test_the_configuration_table_lists_every_setting_read_from_the_environment():
    table = _section("Configuration")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", table))

    assert settings_variables() - documented == set()


@pytest.mark.django_db
def test_the_readme_lists_every_demo_login_of_every_role():
    create_staff(Demo(plan=Plan(), now=timezone.now(), writer=None, log=lambda *args: None))
    logins = _section("Try it: two commands")

    missing = [user.username for user in User.objects.all() if f"`{user.username}`" not in logins]
    assert missing == []


def test_make_run_says_where_printed_qr_codes_and_e_mail_links_point_and_how_to_reach_them_from_a_phone():
    run = MAKEFILE[MAKEFILE.index("\nrun:"):]
    run = run[:run.index("\n\n")]

    assert "SITE_URL=$(SITE_URL)" in run and "point at $(SITE_URL)" in run
    assert "BIND=0.0.0.0:8000 SITE_URL=http://" in run
    assert "SITE_URL=http://" in _section("Try it: two commands")
