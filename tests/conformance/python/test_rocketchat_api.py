"""rocketchat-api 3.7.1 (import name `rocketchat_API`) against rocketchat-sim: the REST oracle.

Client facts that shape these tests (read from its source):
- every call returns the parsed JSON body; a non-2xx body with success:false raises
  RocketApiException(status_code, text, json); login raises RocketAuthenticationException on
  401 and RocketConnectionException on anything else that is not 200 + status=="success";
- dm_create/dm_list use the `dm.*` aliases (not `im.*`); dm_list is a paginating generator
  (`offset`/`count` query params);
- 3.7.1 has no `rooms_upload` method, so the legacy upload is driven with `requests`.
"""
import re
import time

import pytest
import requests
from rocketchat_API.APIExceptions.RocketExceptions import (RocketApiException,
                                                           RocketConnectionException)
from rocketchat_API.rocketchat import RocketChat

from seed import (ALICE_ID, ALICE_PASSWORD, ALICE_TOKEN, DM_BOT_ALICE, GENERAL, MYBOT_ID,
                  MYBOT_PASSWORD, MYBOT_TOKEN, OPS_TEAM, RANDOM)

RATE_TEXT = re.compile(r"You must wait (\d+) seconds before trying this endpoint again\. \[error-too-many-requests\]$")


@pytest.fixture(scope="module")
def bot(sim):
    """mybot, logged in once for the module (login itself is rate limited per IP)."""
    return RocketChat("mybot", MYBOT_PASSWORD, server_url=sim.url)


@pytest.fixture(scope="module")
def alice(sim):
    return RocketChat(auth_token=ALICE_TOKEN, user_id=ALICE_ID, server_url=sim.url)


def test_login_me_info(bot, sim):
    assert bot.headers["X-User-Id"] == MYBOT_ID
    assert bot.headers["X-Auth-Token"]
    me = bot.me()
    assert me["success"] is True
    assert me["_id"] == MYBOT_ID and me["username"] == "mybot"
    assert "bot" in me["roles"]
    info = bot.info()
    assert info["success"] is True
    assert re.match(r"^\d+\.\d+", info["version"])


def test_wrong_password_is_authentication_error(sim):
    from rocketchat_API.APIExceptions.RocketExceptions import RocketAuthenticationException
    with pytest.raises(RocketAuthenticationException):
        RocketChat("mybot", "wrong", server_url=sim.url)


def test_chat_post_send_update_react_get_delete(bot, alice):
    posted = bot.chat_post_message("first", room_id=GENERAL)
    assert posted["success"] is True
    msg = posted["message"]
    assert msg["rid"] == GENERAL and msg["msg"] == "first"
    assert msg["u"]["_id"] == MYBOT_ID and msg["u"]["username"] == "mybot"
    assert isinstance(posted["ts"], int)  # epoch ms number, unlike message.ts (ISO string)
    assert posted["channel"] == GENERAL
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", msg["ts"])

    by_name = bot.chat_post_message("by name", channel="#general")
    assert by_name["message"]["rid"] == GENERAL
    assert by_name["channel"] == "#general"

    reply = alice.chat_send_message({"rid": GENERAL, "msg": "a reply", "tmid": msg["_id"]})
    assert reply["message"]["tmid"] == msg["_id"]
    assert reply["message"]["u"]["_id"] == ALICE_ID

    updated = bot.chat_update(GENERAL, msg["_id"], "first (edited)")
    assert updated["message"]["_id"] == msg["_id"]
    assert updated["message"]["msg"] == "first (edited)"
    assert updated["message"]["editedBy"]["_id"] == MYBOT_ID
    assert "editedAt" in updated["message"]

    assert bot.chat_react(msg["_id"], ":+1:")["success"] is True
    got = bot.chat_get_message(msg["_id"])["message"]
    assert got["msg"] == "first (edited)"
    assert "mybot" in got["reactions"][":+1:"]["usernames"]
    assert got["tcount"] == 1

    deleted = bot.chat_delete(GENERAL, by_name["message"]["_id"])
    assert deleted["success"] is True
    assert deleted["_id"] == by_name["message"]["_id"]
    assert isinstance(deleted["ts"], str) and deleted["ts"].isdigit()  # epoch ms as a STRING

    with pytest.raises(RocketApiException) as err:
        bot.chat_update(GENERAL, "NoSuchMessage0001", "x")
    assert err.value.status_code == 400
    assert err.value.response_json["success"] is False


def test_dm_create_and_list(bot):
    created = bot.dm_create("alice")
    room = created["room"]
    assert room["rid"] == DM_BOT_ALICE and room["_id"] == DM_BOT_ALICE
    assert room["t"] == "d"
    assert sorted(room["usernames"]) == ["alice", "mybot"]
    ims = list(bot.dm_list())
    assert DM_BOT_ALICE in [im["_id"] for im in ims]


def test_rooms_info_and_get(bot):
    room = bot.rooms_info(room_id=GENERAL)["room"]
    assert room["_id"] == GENERAL and room["t"] == "c" and room["name"] == "general"
    private = bot.rooms_info(room_id=OPS_TEAM)["room"]
    assert private["t"] == "p" and private["name"] == "ops-team"
    with pytest.raises(RocketApiException) as err:
        bot.rooms_info(room_id="NoSuchRoom0000001")
    assert err.value.status_code == 400
    assert err.value.error_type == "error-room-not-found"
    rooms = bot.rooms_get()
    ids = {r["_id"] for r in rooms["update"]}
    assert {GENERAL, OPS_TEAM, DM_BOT_ALICE} <= ids
    assert isinstance(rooms["remove"], list)


def test_subscriptions(bot):
    subs = bot.subscriptions_get()
    rids = {s["rid"] for s in subs["update"]}
    assert {GENERAL, OPS_TEAM, DM_BOT_ALICE} <= rids
    assert RANDOM not in rids  # readable but not joined
    one = bot.subscriptions_get_one(GENERAL)["subscription"]
    assert one["rid"] == GENERAL and one["u"]["_id"] == MYBOT_ID and one["t"] == "c"
    dm = bot.subscriptions_get_one(DM_BOT_ALICE)["subscription"]
    assert dm["name"] == "alice" and dm["fname"] == "Alice Doe"
    assert bot.subscriptions_get_one(RANDOM)["subscription"] is None


def test_users_info(bot):
    user = bot.users_info(username="alice")["user"]
    assert user["_id"] == ALICE_ID and user["name"] == "Alice Doe"
    assert bot.users_info(user_id=ALICE_ID)["user"]["username"] == "alice"
    with pytest.raises(RocketApiException) as err:
        bot.users_info(username="ghost")
    assert err.value.status_code == 400
    assert err.value.response_json == {"success": False, "error": "User not found."}


def test_rooms_media_confirm_and_protected_download(bot, sim, tmp_path):
    payload = b"conformance upload \x00\x01\x02 bytes\n"
    path = tmp_path / "notes.txt"
    path.write_bytes(payload)

    step1 = bot.rooms_media(GENERAL, str(path))
    file_id = step1["file"]["_id"]
    assert step1["file"]["url"] == f"/file-upload/{file_id}/notes.txt"

    step2 = bot.rooms_media_confirm(GENERAL, file_id, msg="see file", description="a note")
    message = step2["message"]
    assert message["rid"] == GENERAL and message["msg"] == "see file"
    assert message["file"]["_id"] == file_id
    assert message["files"][0]["name"] == "notes.txt"
    assert message["files"][0]["size"] == len(payload)
    att = message["attachments"][0]
    assert att["title"] == "notes.txt" and att["description"] == "a note"
    assert att["title_link"] == f"/file-upload/{file_id}/notes.txt"

    url = sim.url + att["title_link"]
    cookies = {"rc_uid": MYBOT_ID, "rc_token": bot.headers["X-Auth-Token"]}
    ok = requests.get(url, cookies=cookies, timeout=10)
    assert ok.status_code == 200
    assert ok.content == payload
    denied = requests.get(url, timeout=10)
    assert denied.status_code == 403


def _legacy_upload(sim, content=b"legacy bytes"):
    return requests.post(
        f"{sim.url}/api/v1/rooms.upload/{GENERAL}",
        headers={"X-User-Id": MYBOT_ID, "X-Auth-Token": MYBOT_TOKEN},
        files={"file": ("legacy.txt", content, "text/plain")},
        data={"msg": "legacy upload"},
        timeout=10,
    )


def test_rooms_upload_removed_in_profile_8(sim_factory):
    r = _legacy_upload(sim_factory("--profile", "8"))
    assert r.status_code == 404


def test_rooms_upload_works_in_profile_6(sim_factory):
    r = _legacy_upload(sim_factory("--profile", "6"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    assert body["message"]["msg"] == "legacy upload"
    assert body["message"]["files"][0]["name"] == "legacy.txt"


def _assert_rate_headers(resp, remaining):
    h = resp.headers  # requests' header dict is case-insensitive
    assert h["X-RateLimit-Limit"] == "10"
    assert h["X-RateLimit-Remaining"] == str(remaining)
    reset = int(h["X-RateLimit-Reset"])  # absolute epoch ms
    now_ms = time.time() * 1000
    assert now_ms - 5_000 < reset <= now_ms + 61_000


def test_login_rate_limit_for_non_bot_user(sim_factory):
    sim = sim_factory()
    url = f"{sim.url}/api/v1/login"
    for i in range(10):
        r = requests.post(url, json={"user": "alice", "password": ALICE_PASSWORD}, timeout=10)
        assert r.status_code == 200, (i, r.text)
        _assert_rate_headers(r, 9 - i)
    r = requests.post(url, json={"user": "alice", "password": ALICE_PASSWORD}, timeout=10)
    assert r.status_code == 429
    body = r.json()
    assert body["success"] is False
    wait = RATE_TEXT.search(body["error"])
    assert wait and 1 <= int(wait.group(1)) <= 60, body
    _assert_rate_headers(r, 0)
    assert "Retry-After" not in r.headers
    # The real client does not type 429 on login: it is a generic connection error.
    with pytest.raises(RocketConnectionException):
        RocketChat("alice", ALICE_PASSWORD, server_url=sim.url)


def test_bot_role_bypasses_rate_limit(sim_factory):
    # §5: /login is limited per IP before the handler knows the user (the vectors even show
    # mybot getting 429 on login), so the bot bypass is checked on an authenticated route.
    sim = sim_factory()
    bot = RocketChat(auth_token=MYBOT_TOKEN, user_id=MYBOT_ID, server_url=sim.url)
    for _ in range(15):
        r = bot.session.get(f"{sim.url}/api/v1/me", headers=bot.headers, timeout=10)
        assert r.status_code == 200
        assert not any(k.lower().startswith("x-ratelimit") for k in r.headers), dict(r.headers)
    # Same route, non-bot user: limited on the 11th call.
    statuses = [
        requests.get(f"{sim.url}/api/v1/me", headers={"X-User-Id": ALICE_ID, "X-Auth-Token": ALICE_TOKEN},
                     timeout=10).status_code
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
