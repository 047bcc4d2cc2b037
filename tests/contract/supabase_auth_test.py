"""Contract test: the official Python `supabase-auth` admin client against invite-sandbox.

Usage: SANDBOX_URL=http://127.0.0.1:PORT SERVICE_ROLE_KEY=... python supabase_auth_test.py
Runs against the self-hosted root and against the hosted `/auth/v1` gateway path.
"""

import os
import sys
import time

from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError

URL = os.environ["SANDBOX_URL"]
KEY = os.environ["SERVICE_ROLE_KEY"]
ANON = os.environ.get("ANON_KEY", "")


def admin_for(base, apikey):
    headers = {"Authorization": f"Bearer {KEY}"}
    if apikey:
        headers["apikey"] = KEY
    return SyncGoTrueClient(url=base, headers=headers, auto_refresh_token=False, persist_session=False).admin


def run(label, admin):
    stamp = int(time.time() * 1000)
    emails = [f"py-{label}-{stamp}-{i}@example.com" for i in range(3)]
    ids = []
    for e in emails:
        res = admin.invite_user_by_email(e, {"data": {"full_name": "Py"}, "redirect_to": "http://localhost:3000/py"})
        assert res.user.email == e, res
        assert res.user.invited_at is not None
        ids.append(res.user.id)
    # re-invite of an unconfirmed user succeeds
    again = admin.invite_user_by_email(emails[0])
    assert again.user.id == ids[0]
    users = admin.list_users()
    listed = {u.email for u in users}
    assert set(emails) <= listed, listed
    page = admin.list_users(page=1, per_page=2)
    assert len(page) == 2, page
    admin.delete_user(ids[1])
    listed = {u.email for u in admin.list_users()}
    assert emails[1] not in listed
    try:
        admin.get_user_by_id(ids[1])
        raise AssertionError("deleted user still found")
    except AuthApiError as e:
        assert e.status == 404, e
        assert e.code == "user_not_found", e.code
    print(f"ok - python supabase-auth {label}: invite, re-invite, list, delete")


def main():
    run("root", admin_for(URL, False))
    run("hosted", admin_for(URL + "/auth/v1", True))
    if ANON:
        anon = SyncGoTrueClient(url=URL, headers={"Authorization": f"Bearer {ANON}"}, auto_refresh_token=False, persist_session=False).admin
        try:
            anon.invite_user_by_email("nope@example.com")
            raise AssertionError("anon key was allowed")
        except AuthApiError as e:
            assert e.status == 403 and e.code == "not_admin", (e.status, e.code)
        print("ok - python supabase-auth anon key refused with not_admin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
