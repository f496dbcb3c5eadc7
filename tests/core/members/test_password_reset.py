from django.core import mail


def test_a_reset_asked_in_network_b_sends_nothing_for_network_a_members(
    network_a, network_b, make_member, client_b
):
    make_member(network_a, email="ada@nhs.net")
    assert client_b.post("/accounts/password-reset/", {"email": "ada@nhs.net"}).status_code == 302
    assert mail.outbox == []
