from http import HTTPStatus

import pytest


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


def test_live_daphne_serves_healthz_and_dev_tokens(run_server, user, token_for):
    import httpx

    server = run_server()
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
