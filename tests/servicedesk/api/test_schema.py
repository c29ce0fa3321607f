"""Issue 19: the OpenAPI 3 schema validates (drf-spectacular's `spectacular --validate`), names every endpoint and
method of /api/v1/, and is read in Swagger UI and Redoc served from our own static files under the strict CSP."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, get_resolver

from servicedesk.integrations.models import ApiToken

pytestmark = pytest.mark.django_db

READERS = {"api:docs", "api:redoc", "api:schema"}  # the schema and its readers are not in it themselves


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # What `manage.py spectacular --validate --fail-on-warn` does: a warning (an unresolved type or
    # authenticator) or an invalid OpenAPI 3 document fails the command.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def _api_endpoints():
    """(path as the schema writes it, method) for every /api/v1/ URL pattern and the methods its view answers."""
    resolver = get_resolver().namespace_dict["api"][1]
    endpoints = []
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        if f"api:{pattern.name}" in READERS:
            continue
        route = "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: f"{{{'id' if m[1] == 'pk' else m[1]}}}",
                                 str(pattern.pattern))
        actions = getattr(pattern.callback, "actions", None)
        # HEAD is GET's (DRF adds it to a viewset's actions once it has answered a request); OpenAPI leaves it out.
        methods = [m for m in actions if m != "head"] if actions else [
            m for m in ("get", "post", "put") if hasattr(pattern.callback.cls, m)]
        endpoints += [(route, method) for method in methods]
    return endpoints


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["integrationToken"]["scheme"] == "bearer"


def test_every_api_endpoint_and_method_is_in_the_schema(schema):
    endpoints = _api_endpoints()
    assert len(endpoints) >= 20
    missing = [(path, method) for path, method in endpoints if method not in schema["paths"].get(path, {})]
    assert missing == []
    documented = {(path, method) for path, operations in schema["paths"].items() for method in operations}
    assert documented == set(endpoints)


def test_an_upsert_documents_the_import_columns_and_the_error_shape(schema):
    job_write = schema["components"]["schemas"]["JobWriteRequest"]
    assert {"site", "status", "scheduled_start", "lead_technician", "helpers"} <= set(job_write["properties"])
    assert "site" in job_write["required"] and "external_id" not in job_write["properties"]
    assert "400" in schema["paths"]["/api/v1/jobs/bulk"]["post"]["responses"]


def test_a_token_reads_the_schema_and_an_anonymous_client_does_not(api, client):
    assert api(ApiToken.Scope.READ).get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/schema/").status_code == 401


def test_swagger_ui_is_served_from_our_static_files_with_no_inline_script_or_style(client_for, manager):
    response = client_for(manager).get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<style" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "https://" not in page and "http://" not in page
    for src in re.findall(r'(?:src|href)="/static/([^"?]+)"', page):
        assert finders.find(src), src
    script = client_for(manager).get("/api/v1/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "style-src 'self'" in policy


def test_redoc_is_served_from_our_static_files_and_its_scripts_stay_under_the_strict_policy(client_for, manager):
    response = client_for(manager).get("/api/v1/redoc/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<redoc spec-url="/api/v1/schema/"' in page and "https://" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    policy = response["Content-Security-Policy"]
    # Its bundle writes <style> elements as it loads: inline styles on this page only, never inline scripts.
    assert "'unsafe-inline'" in re.search(r"style-src[^;]*", policy)[0]
    assert "'unsafe-inline'" not in re.search(r"script-src[^;]*", policy)[0]
    for src in re.findall(r'src="/static/([^"?]+)"', page):
        assert finders.find(src), src
    assert "'unsafe-inline'" not in client_for(manager).get("/integrations/")["Content-Security-Policy"]


@pytest.mark.parametrize("role", ["csr", "technician", "sales"])
def test_the_api_reference_is_for_managers(request, client_for, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/docs/").status_code == 403
    assert client.get("/api/v1/redoc/").status_code == 403


def test_the_integrations_page_links_to_the_api_reference(client_for, manager):
    page = client_for(manager).get("/integrations/").content.decode()
    assert 'href="/api/v1/docs/"' in page and 'href="/api/v1/redoc/"' in page
