r"""Every example of the ``@lumi.new/sdk`` README, ported to Python and run on the emulator.

One test per JavaScript example; its docstring quotes the example as the JavaScript README has
it, and ``test_every_javascript_readme_example_has_a_twin`` checks that each example of the
installed package's README is quoted by a test here. Where the JavaScript client takes an options
object, the twin passes it as written (``{"email": ..., "password": ...}``), as a port line by
line would; the keyword form, which Python code is written in, sends the same requests
(``tests/test_js_options.py``). The browser-only examples (pop-up sign-in) twin to what the
README tells a server to do instead.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

import lumi
from lumi.emulator import Emulator

from .conftest import JS_CACHE

PID = "p_js_readme"
API_KEY = "lk_js_readme"
OTP = "123456"  # the JavaScript README's example code; the emulator sends it (fixed_otp)
MAX_FILE_SIZE = 64 * 1024

FUNCTIONS = '''
import lumi
from werkzeug.wrappers import Response


def sendNewsletter(request):
    """The README's function: what it was sent, and who called it."""
    return {
        "sentTo": request.json["to"],
        "subject": request.json["subject"],
        "campaign": request.headers.get("X-Campaign-ID"),
        "caller": request.user["email"] if request.user else None,
    }


def ai_stream(request):
    """The streaming section's server side: generateTextStream's raw bytes, relayed."""
    client = lumi.create_client(project_id=request.project_id, api_base_url=request.api_base_url,
                                api_key="lk_relay")
    raw = client.tools.ai.generate_text_stream(
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Stream a short poem line by line."},
        ],
        model="gemini-2.5-flash",
        raw=True,
    )
    return Response(raw, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                  "X-Accel-Buffering": "no"})


# The README names the function 'ai-stream', which is not a Python identifier.
globals()["ai-stream"] = ai_stream
'''


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    functions = tmp_path_factory.mktemp("functions") / "functions.py"
    functions.write_text(FUNCTIONS, encoding="utf-8")
    with Emulator(fixed_otp=OTP, functions=functions, max_file_size=MAX_FILE_SIZE) as running:
        yield running


@pytest.fixture
def client(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[lumi.LumiClient]:
    """``lumi`` of the JavaScript examples (``lumi`` is the module's name in Python)."""
    emulator.reset()
    monkeypatch.setenv("LUMI_API_KEY", API_KEY)
    config = {"projectId": PID, "apiBaseUrl": emulator.url, "authOrigin": "https://auth.lumi.new"}
    with lumi.create_client(config) as made:
        yield made


def sign_up(client: lumi.LumiClient, email: str = "ada@example.com", password: str = "pw") -> str:
    """An account to work with; returns its token (the client is signed in)."""
    client.auth.send_otp(email=email, type="register")
    return client.auth.sign_up_with_password(
        email=email, password=password, otp=OTP, user_name="Ada"
    ).access_token


# -- Getting started ------------------------------------------------------------------------------
def test_getting_started(emulator: Emulator) -> None:
    """
    import { createClient } from '@lumi.new/sdk'

    export const lumi = createClient({
      projectId: 'YOUR_PROJECT_ID',
      apiBaseUrl: 'YOUR_API_BASE_URL',
      authOrigin: 'YOUR_AUTH_ORIGIN',
    })
    """
    client = lumi.create_client(
        {"projectId": PID, "apiBaseUrl": emulator.url, "authOrigin": "https://auth.example.test"}
    )
    same = lumi.create_client(
        project_id=PID, api_base_url=emulator.url, auth_origin="https://auth.example.test"
    )
    assert client.config == same.config and client.config.project_id == PID
    assert client.entities.Posts.list().total == 0  # it talks to the emulator


def test_usage_on_the_server(client: lumi.LumiClient, emulator: Emulator) -> None:
    """
    Deno.serve(async (req) => {
      const authorization = req.headers.get('Authorization')
      const lumi = createClient({
        projectId: 'YOUR_PROJECT_ID',
        apiBaseUrl: 'YOUR_API_BASE_URL',
        authOrigin: '',
        authorization,
      })
      const user = await lumi.auth.refreshUser()
      return lumi.auth.user
    })
    """
    app = Flask("server")

    @app.get("/me")
    def me() -> Any:
        authorization = request.headers.get("Authorization")
        server = lumi.create_client(
            {
                "projectId": PID,
                "apiBaseUrl": emulator.url,
                "authOrigin": "",
                "authorization": authorization,
            }
        )
        user = server.auth.refresh_user()
        assert user == server.auth.user
        return lumi.unstructure(server.auth.user)

    token = sign_up(client)
    answer = app.test_client().get("/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json["email"] == "ada@example.com"
    # Without a token there is no user: the error says so (a LumiError, never a crash).
    with app.test_request_context("/me"), pytest.raises(lumi.LumiError):
        me()


# -- Authentication -------------------------------------------------------------------------------
def test_sign_in_is_a_browser_pop_up(client: lumi.LumiClient) -> None:
    """
    import { LumiClient } from '@lumi.new/sdk'

    async function handleSignIn(lumi: LumiClient) {
      try {
        const { user, accessToken } = await lumi.auth.signIn()
        console.log('Signed in as:', user)
        console.log('Access Token:', accessToken)
      } catch (error) {
        console.error('Authentication failed:', error)
      }
    }
    """
    with pytest.raises(lumi.BrowserOnlyError) as caught:
        client.auth.sign_in()
    # What a server does instead, as the message says.
    assert "sign_in_with_password(email=..., password=...)" in caught.value.message
    assert "create_client(authorization=" in caught.value.message
    assert caught.value.code == 10400 and caught.value.attempts == 0


def test_sign_in_with_password(client: lumi.LumiClient, capsys: pytest.CaptureFixture[str]) -> None:
    """
    async function handleSignInWithPassword(lumi: LumiClient) {
      try {
        const { user, accessToken } = await lumi.auth.signInWithPassword({
          email: 'user@example.com',
          password: 'your-password',
        })
        console.log('Signed in as:', user)
      } catch (error) {
        console.error('Authentication failed:', error)
      }
    }
    """
    sign_up(client, "user@example.com", "your-password")
    client.auth.sign_out()

    def handle_sign_in_with_password(lumi_client: lumi.LumiClient, password: str) -> None:
        try:
            result = lumi_client.auth.sign_in_with_password(
                {"email": "user@example.com", "password": password}
            )
            user, access_token = result.user, result.access_token
            print("Signed in as:", user.email, bool(access_token))
        except lumi.LumiError as error:
            print("Authentication failed:", error.code, file=sys.stderr)

    handle_sign_in_with_password(client, "your-password")
    assert capsys.readouterr().out == "Signed in as: user@example.com True\n"
    assert client.auth.is_authenticated and client.auth.user.email == "user@example.com"
    client.auth.sign_out()
    handle_sign_in_with_password(client, "wrong-password")
    assert "Authentication failed" in capsys.readouterr().err
    assert not client.auth.is_authenticated


def test_sign_in_with_oauth_is_a_browser_pop_up(client: lumi.LumiClient) -> None:
    """
    async function handleSignInWithGoogle(lumi: LumiClient) {
      try {
        const { user, accessToken } = await lumi.auth.signInWithOAuth({
          provider: 'google',
        })
        console.log('Signed in with Google as:', user)
      } catch (error) {
        console.error('OAuth authentication failed:', error)
      }
    }
    """
    with pytest.raises(lumi.BrowserOnlyError) as caught:
        client.auth.sign_in_with_oauth({"provider": "google"})
    assert "provider='google'" in caught.value.message
    assert "client.for_request('Bearer <token>')" in caught.value.message


def test_sign_up_with_password(client: lumi.LumiClient, emulator: Emulator) -> None:
    """
    async function handleSignUp(lumi: LumiClient) {
      const email = 'newuser@example.com'

      // Step 1: Send OTP to the user's email
      await lumi.auth.sendOtp({ email, type: 'register' })
      console.log('OTP sent to email')

      // Step 2: After user receives OTP, complete registration
      const otp = '123456' // OTP entered by user
      try {
        await lumi.auth.signUpWithPassword({
          email,
          password: 'secure-password',
          otp,
          userName: 'New User', // optional
        })
        console.log('Registration successful')
      } catch (error) {
        console.error('Registration failed:', error)
      }
    }
    """
    email = "newuser@example.com"
    client.auth.send_otp({"email": email, "type": "register"})
    assert emulator.latest_otp(email, PID) == OTP
    otp = "123456"
    result = client.auth.sign_up_with_password(
        {"email": email, "password": "secure-password", "otp": otp, "userName": "New User"}
    )
    assert result.user.user_name == "New User" and client.auth.is_authenticated
    with pytest.raises(lumi.APIError):  # the code is used: a second sign-up fails loudly
        client.auth.sign_up_with_password(
            {"email": email, "password": "secure-password", "otp": otp}
        )


def test_reset_password(client: lumi.LumiClient) -> None:
    """
    async function handleResetPassword(lumi: LumiClient) {
      const email = 'user@example.com'

      // Step 1: Send OTP to the user's email
      await lumi.auth.sendOtp({ email, type: 'resetPassword' })
      console.log('OTP sent to email')

      // Step 2: After user receives OTP, reset password
      const otp = '123456' // OTP entered by user
      try {
        await lumi.auth.resetPassword({
          email,
          newPassword: 'new-secure-password',
          otp,
        })
        console.log('Password reset successful')
      } catch (error) {
        console.error('Password reset failed:', error)
      }
    }
    """
    email = "user@example.com"
    sign_up(client, email, "old-password")
    client.auth.send_otp({"email": email, "type": "resetPassword"})
    client.auth.reset_password({"email": email, "newPassword": "new-secure-password", "otp": OTP})
    client.auth.sign_in_with_password(email=email, password="new-secure-password")
    with pytest.raises(lumi.APIError):
        client.auth.sign_in_with_password(email=email, password="old-password")


def test_sign_out(client: lumi.LumiClient) -> None:
    """
    function handleSignOut(lumi: LumiClient) {
      lumi.auth.signOut()
      console.log('User signed out.')
    }
    """
    # JavaScript disables signOut() on a server; in Python it forgets this client's token and
    # user (a token is not revoked on the server).
    token = sign_up(client)
    client.auth.sign_out()
    assert client.auth.access_token is None and client.auth.user is None
    assert not client.auth.is_authenticated
    assert client.for_request(f"Bearer {token}").auth.refresh_user().email == "ada@example.com"


def test_refresh_user_profile(client: lumi.LumiClient) -> None:
    """
    async function fetchUser(lumi: LumiClient) {
      if (lumi.auth.isAuthenticated) {
        try {
          const user = await lumi.auth.refreshUser()
          console.log('Current user:', user)
        } catch (error) {
          console.error('Failed to fetch user:', error)
        }
      } else {
        console.log('User is not authenticated.')
      }
    }
    """

    def fetch_user(lumi_client: lumi.LumiClient) -> lumi.User | str:
        if lumi_client.auth.is_authenticated:
            return lumi_client.auth.refresh_user()
        return "User is not authenticated."

    assert fetch_user(client) == "User is not authenticated."
    sign_up(client)
    user = fetch_user(client)
    assert isinstance(user, lumi.User) and user.email == "ada@example.com"
    client.auth.access_token = "expired-token"
    with pytest.raises(lumi.AuthenticationError):  # code 2100: the client drops the token
        fetch_user(client)
    assert not client.auth.is_authenticated


def test_manage_access_token(client: lumi.LumiClient) -> None:
    """
    // Get the access token
    const token = lumi.auth.accessToken

    // Check if the user is authenticated
    const isAuthenticated = lumi.auth.isAuthenticated
    """
    assert client.auth.access_token is None and client.auth.is_authenticated is False
    issued = sign_up(client)
    token = client.auth.access_token
    is_authenticated = client.auth.is_authenticated
    assert token == issued and is_authenticated is True


def test_access_user_information(client: lumi.LumiClient) -> None:
    """
    // Get the user object from the cache
    const user = lumi.auth.user

    if (user) {
      console.log('Current user from cache:', user.userName)
    }
    """
    assert client.auth.user is None
    sign_up(client)
    user = client.auth.user
    assert user is not None and user.user_name == "Ada"


def test_listen_for_auth_changes(client: lumi.LumiClient) -> None:
    """
    function listenForAuthChanges(lumi: LumiClient) {
      const unsubscribe = lumi.auth.onAuthChange(({ isAuthenticated, user }) => {
        console.log(`User is now ${isAuthenticated ? 'signed in' : 'signed out'}.`)
        if (isAuthenticated) {
          console.log('User details:', user)
        }
        // You can update your UI based on the authentication state
      })

      // To stop listening, call the unsubscribe function
      // unsubscribe()
    }
    """
    # JavaScript disables onAuthChange() on a server; in Python it hears this client's changes
    # (sign-in, sign-out, a token the server rejects, the token or user set directly).
    heard: list[str] = []

    def on_change(change: lumi.AuthChange) -> None:
        heard.append(f"User is now {'signed in' if change.is_authenticated else 'signed out'}.")
        if change.is_authenticated and change.user is not None:
            heard.append(f"User details: {change.user.email}")

    unsubscribe = client.auth.on_auth_change(on_change)
    sign_up(client)
    client.auth.sign_out()
    unsubscribe()
    sign_up(client, "other@example.com")
    assert heard == [
        "User is now signed in.",
        "User details: ada@example.com",
        "User is now signed out.",
    ]


def test_on_auth_change_reference(client: lumi.LumiClient) -> None:
    """
    const unsubscribe = lumi.auth.onAuthChange(({ isAuthenticated, user }) => {
      console.log('Authentication state changed:', isAuthenticated)
      if (isAuthenticated) {
        // Typically you would update your UI here
        console.log('User is now signed in:', user)
      } else {
        // And here as well
        console.log('User is now signed out.')
      }
    })

    // When the component unmounts or you no longer need to listen for changes:
    // unsubscribe();
    """
    changes: list[lumi.AuthChange] = []
    unsubscribe = client.auth.on_auth_change(changes.append)
    token = sign_up(client)
    client.auth.access_token = None  # the setter notifies, as in JavaScript
    client.auth.access_token = token
    unsubscribe()
    client.auth.sign_out()
    assert [c.is_authenticated for c in changes] == [True, False, True]
    assert changes[0].user is not None and changes[0].user.email == "ada@example.com"
    assert changes[1].user is None  # signing out forgets the user too


def test_user_setter_reference(client: lumi.LumiClient) -> None:
    """API reference, ``user``: "Set: ``lumi.auth.user = userObject`` ... This will trigger the
    ``onAuthChange`` event." (The README has no code block for it.)"""
    changes: list[lumi.AuthChange] = []
    client.auth.on_auth_change(changes.append)
    sign_up(client)
    profile = lumi.unstructure(client.auth.refresh_user())
    client.auth.user = {**profile, "userName": "Ada Lovelace"}  # a wire dict, as in JavaScript
    assert client.auth.user.user_name == "Ada Lovelace"
    assert changes[-1] == lumi.AuthChange(is_authenticated=True, user=client.auth.user)
    client.auth.user = None
    assert changes[-1].user is None and client.auth.is_authenticated


# -- Entities -------------------------------------------------------------------------------------
def test_entity_by_name(client: lumi.LumiClient) -> None:
    """
    const posts = lumi.entities.Posts
    """
    posts = client.entities.Posts
    assert isinstance(posts, lumi.EntityClient) and posts is client.entities["Posts"]
    assert posts.entity_name == "Posts"


def seed_posts(client: lumi.LumiClient) -> list[lumi.Record]:
    sign_up(client)
    return client.entities.Posts.create_many(
        [
            {"title": "First Post", "content": "...", "published": True, "createdAt": "2024-01-01"},
            {
                "title": "Second Post",
                "content": "...",
                "published": True,
                "createdAt": "2024-01-02",
            },
            {"title": "Draft", "content": "...", "published": False, "createdAt": "2024-01-03"},
        ]
    )


def test_list_records(client: lumi.LumiClient) -> None:
    """
    async function getPosts() {
      const { list, total } = await lumi.entities.Posts.list({
        filter: { published: true },
        sort: { createdAt: -1 }, // Sort by creation date in descending order
        limit: 10,
        skip: 0,
      })
      console.log('Posts:', list)
      console.log('Total records:', total)
    }

    // Example Request:
    getPosts();

    // Example Response:
    // Posts: [
    //   { id: 'post-id-1', title: 'First Post', content: '...', published: true, createdAt: '...' },
    //   { id: 'post-id-2', title: 'Second Post', content: '...', published: true, createdAt: '...' }
    // ]
    // Total records: 2
    """
    seed_posts(client)
    page = client.entities.Posts.list(
        {"filter": {"published": True}, "sort": {"createdAt": -1}, "limit": 10, "skip": 0}
    )
    posts, total = page.list, page.total
    assert [p.title for p in posts] == ["Second Post", "First Post"] and total == 2
    assert all(p.id and p.published is True for p in page)  # a Page iterates its records


def test_get_a_single_record(client: lumi.LumiClient) -> None:
    """
    async function getPost(id: string) {
      const post = await lumi.entities.Posts.get(id)
      console.log('Post:', post)
    }

    // Example Request:
    getPost('your-post-id');

    // Example Response:
    // Post: { id: 'post-id-1', title: 'My Post', content: '...', published: true, createdAt: '...' }
    """
    first = seed_posts(client)[0]
    post = client.entities.Posts.get(first.id)
    assert post == first and post.title == "First Post"
    assert client.entities.Posts.get("6939311e8458665713e0b599") is None  # JavaScript's null


def test_create_a_record(client: lumi.LumiClient) -> None:
    """
    async function createPost(title: string, content: string) {
      const newPost = await lumi.entities.Posts.create({
        title,
        content,
        published: false,
      })
      console.log('Created post:', newPost)
    }

    // Example Request:
    createPost('My Awesome Post', 'This is the content of my new post.');

    // Example Response:
    // Created post: { id: 'new-post-id', title: 'My Awesome Post', content: 'This is the content of my new post.', published: false, creator: 'user-id-123', createdAt: '2024-01-16T10:30:00Z', updatedAt: '2024-01-16T10:30:00Z' }
    """
    sign_up(client)
    title, content = "My Awesome Post", "This is the content of my new post."
    new_post = client.entities.Posts.create(
        {"title": title, "content": content, "published": False}
    )
    assert new_post.id and new_post.title == title and new_post.published is False
    assert new_post.creator == client.auth.user.user_id and new_post.created_at is not None


def test_create_multiple_records(client: lumi.LumiClient) -> None:
    """
    async function createMultiplePosts(newPostsData: any[]) {
      const newPosts = await lumi.entities.Posts.createMany(newPostsData)
      console.log('Created posts:', newPosts)
    }

    // Example Request:
    const postsToCreate = [
      { title: 'First Awesome Post', content: 'Content for the first post.' },
      { title: 'Second Awesome Post', content: 'Content for the second post.' }
    ];
    createMultiplePosts(postsToCreate);

    // Example Response:
    // Created posts: [
    //   { id: 'post-1', title: 'Post 1', content: '...', published: false, creator: 'user-id-123', createdAt: '...', updatedAt: '...' },
    //   { id: 'post-2', title: 'Post 2', content: '...', published: false, creator: 'user-id-123', createdAt: '...', updatedAt: '...' }
    // ]
    """
    sign_up(client)
    posts_to_create = [
        {"title": "First Awesome Post", "content": "Content for the first post."},
        {"title": "Second Awesome Post", "content": "Content for the second post."},
    ]
    new_posts = client.entities.Posts.create_many(posts_to_create)
    assert [p.title for p in new_posts] == ["First Awesome Post", "Second Awesome Post"]
    assert len({p.id for p in new_posts}) == 2 and client.entities.Posts.count() == 2


def test_update_a_record(client: lumi.LumiClient) -> None:
    """
    async function updatePost(id: string, updates: Record<string, any>) {
      const updatedPost = await lumi.entities.Posts.update(id, updates)
      console.log('Updated post:', updatedPost)
    }

    // Example Request:
    updatePost('your-post-id', { published: true, title: 'My Updated Post' });

    // Example Response:
    // Updated post: { id: 'post-id-1', title: 'My Updated Post', content: '...', published: true, creator: 'user-id-123', createdAt: '...', updatedAt: '...' }
    """
    draft = seed_posts(client)[2]
    updated = client.entities.Posts.update(
        draft.id, {"published": True, "title": "My Updated Post"}
    )
    assert (updated.id, updated.title, updated.published) == (draft.id, "My Updated Post", True)
    assert updated.content == "..."  # a merge: the other fields stay


def test_delete_a_record(client: lumi.LumiClient) -> None:
    """
    async function deletePost(id: string) {
      await lumi.entities.Posts.delete(id)
      console.log('Post deleted.')
    }

    // Example Request:
    deletePost('your-post-id');
    """
    post = seed_posts(client)[0]
    assert client.entities.Posts.delete(post.id) is None
    assert client.entities.Posts.get(post.id) is None and client.entities.Posts.count() == 2


def test_delete_multiple_records(client: lumi.LumiClient) -> None:
    """
    async function deleteMultiplePosts(ids: string[]) {
      await lumi.entities.Posts.deleteMany(ids)
      console.log('Posts deleted.')
    }

    // Example Request:
    deleteMultiplePosts(['post-id-1', 'post-id-2']);
    """
    posts = seed_posts(client)
    client.entities.Posts.delete_many([posts[0].id, posts[1].id])
    assert [p.title for p in client.entities.Posts.list()] == ["Draft"]


# -- Tools ----------------------------------------------------------------------------------------
def test_send_an_email(client: lumi.LumiClient, emulator: Emulator) -> None:
    """
    async function sendWelcomeEmail(email: string) {
      try {
        await lumi.tools.email.send({
          to: email,
          subject: 'Welcome to Our Service!',
          fromName: 'The Team',
          html: '<h1>Welcome!</h1><p>We are glad to have you with us.</p>',
        });
        console.log('Email sent successfully.');
      } catch (error) {
        console.error('Failed to send email:', error);
      }
    }

    // Example Request:
    sendWelcomeEmail('test@example.com');
    """
    client.tools.email.send(
        {
            "to": "test@example.com",
            "subject": "Welcome to Our Service!",
            "fromName": "The Team",
            "html": "<h1>Welcome!</h1><p>We are glad to have you with us.</p>",
        }
    )
    [mail] = [m for m in emulator.outbox(PID) if m["subject"] == "Welcome to Our Service!"]
    assert mail["to"] == ["test@example.com"] and mail["fromName"] == "The Team"
    with pytest.raises(lumi.ValidationError, match="lacks 'subject'"):  # caught before sending
        client.tools.email.send({"to": "test@example.com", "html": "<p>hi</p>"})


def test_upload_files(client: lumi.LumiClient, tmp_path: Path) -> None:
    """
    async function uploadFiles(files: File[]) {
      const results = await lumi.tools.file.upload(files)
      console.log('Upload results:', results)
    }

    // Example Request (in a browser environment):
    // const fileInput = document.querySelector('input[type="file"]');
    // if (fileInput.files) {
    //   uploadFiles(Array.from(fileInput.files));
    // }

    // Example Response:
    // Upload results: [
    //   { fileName: 'image.png', fileUrl: 'https://your-storage.com/image.png' },
    //   { fileName: 'application.exe', uploadError: 'Invalid file type' }
    // ]
    """
    sign_up(client)
    image = tmp_path / "image.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    too_big = ("application.exe", b"x" * (MAX_FILE_SIZE + 1))
    results = client.tools.file.upload([image, too_big])
    assert results[0].file_name == "image.png" and results[0].file_url
    assert results[1].file_name == "application.exe" and results[1].upload_error
    assert not results[1].file_url  # one refused file does not fail the others


def test_delete_files(client: lumi.LumiClient) -> None:
    """
    async function deleteFiles(urls:string[]) {
      await lumi.tools.file.delete(urls);
      console.log('Files deleted.');
    }

    // Example Request:
    const filesToDelete = [
      'https://your-storage.com/image.png',
      'https://your-storage.com/document.pdf'
    ];
    deleteFiles(filesToDelete);
    """
    sign_up(client)
    uploaded = client.tools.file.upload([("image.png", b"png"), ("document.pdf", b"%PDF")])
    files_to_delete = [item.file_url for item in uploaded]
    client.tools.file.delete(files_to_delete)
    import requests

    assert all(requests.get(url, timeout=10).status_code == 404 for url in files_to_delete)


MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a haiku about the sea."},
]


def test_ai_generate_text(client: lumi.LumiClient) -> None:
    """
    async function aiGenerateText() {
      const result = await lumi.tools.ai.generateText({
        // optional; defaults to 'gemini-2.5-flash'
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Write a haiku about the sea.' },
        ],
      })
      console.log(result.chatId, result.content)
    }
    """
    result = client.tools.ai.generate_text({"model": "gemini-2.5-flash", "messages": MESSAGES})
    assert result.chat_id and result.content
    assert client.tools.ai.generate_text(messages=MESSAGES).content  # the default model


def test_ai_streaming_relayed_by_a_function_and_parsed(
    client: lumi.LumiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    // Example: A Deno-based Lumi Function
    Deno.serve(async (request: Request) => {
      // Initialize Lumi client with authorization token if needed
      // const lumi = createClient({ ... });

      const rawStream = await lumi.tools.ai.generateTextStream({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Stream a short poem line by line.' },
        ],
      });

      // Pipe the raw stream to the response with proper SSE headers
      return new Response(rawStream, {
        headers: {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache',
          'X-Accel-Buffering': 'no',
        },
      });
    });

    async function consumeAiStream() {
      // Invoke the 'ai-stream' function.
      // Setting responseType: 'stream' ensures we get the raw stream.
      const rawStream = await lumi.functions.invoke('ai-stream', {
        responseType: 'stream',
      });

      if (!rawStream) {
        console.error("The response stream is empty.");
        return;
      }

      const parsedStream = await lumi.tools.ai.parseStream(rawStream);
      const reader = parsedStream.getReader();

      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          // value: { event?: string, data: { chatId, content } }
          const content = value?.data?.content ?? '';
          console.log(content); // Update your UI with the content
        }
      } finally {
        reader.releaseLock();
      }
    }
    """
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Stream a short poem line by line."},
    ]
    expected = client.tools.ai.generate_text_stream(messages=messages).text()
    assert expected

    # The server side is the emulator's function "ai-stream" (FUNCTIONS above).
    raw_stream = client.functions.invoke("ai-stream", {"responseType": "stream"})
    assert raw_stream.headers["Content-Type"].startswith("text/event-stream")
    with client.tools.ai.parse_stream(raw_stream) as parsed_stream:
        for value in parsed_stream:  # value.event (or UNSET), value.data.chat_id/.content
            print(value.data.content or "")
    assert capsys.readouterr().out.replace("\n", "") == expected
    assert raw_stream.closed

    # The same server side as a Flask view.
    app = Flask("relay")

    @app.get("/ai-stream")
    def ai_stream() -> Response:
        raw = client.tools.ai.generate_text_stream(
            {"model": "gemini-2.5-flash", "messages": messages, "raw": True}
        )
        headers = {
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
        return Response(raw, headers=headers)

    relayed = app.test_client().get("/ai-stream")
    assert relayed.headers["Content-Type"] == "text/event-stream"
    assert lumi.parse_stream(relayed.data).text() == expected


def test_ai_generate_image(client: lumi.LumiClient) -> None:
    """
    async function aiGenerateImage() {
      const result = await lumi.tools.ai.generateImage({
        // optional; defaults to 'gemini-2.5-flash-image'
        model: 'gemini-2.5-flash-image',
        messages: [
          { role: 'user', content: 'A watercolor painting of a serene mountain lake at sunrise.' },
        ],
      })

      if (result.generationStatus === 'SUCCESS') {
        console.log('Image URL:', result.imageURL)
      } else {
        console.log('Image generation failed:', result)
      }
    }
    """
    prompt = "A watercolor painting of a serene mountain lake at sunrise."
    result = client.tools.ai.generate_image(
        {"model": "gemini-2.5-flash-image", "messages": [{"role": "user", "content": prompt}]}
    )
    assert result.generation_status == "SUCCESS" and result.image_url


# -- Functions ------------------------------------------------------------------------------------
def test_invoke_a_function(client: lumi.LumiClient) -> None:
    """
    async function sendNewsletter(recipient: string) {
      try {
        const result = await lumi.functions.invoke('sendNewsletter', {
          method: 'POST',
          headers: {
            'X-Campaign-ID': 'weekly-digest',
          },
          body: {
            to: recipient,
            subject: 'Your Weekly Newsletter'
          }
        })
        console.log('Newsletter function invoked successfully:', result)
      } catch (error) {
        console.error('Failed to invoke newsletter function:', error)
      }
    }

    sendNewsletter('subscriber@example.com');
    """
    sign_up(client)
    result = client.functions.invoke(
        "sendNewsletter",
        {
            "method": "POST",
            "headers": {"X-Campaign-ID": "weekly-digest"},
            "body": {"to": "subscriber@example.com", "subject": "Your Weekly Newsletter"},
        },
    )
    assert result == {
        "sentTo": "subscriber@example.com",
        "subject": "Your Weekly Newsletter",
        "campaign": "weekly-digest",
        "caller": "ada@example.com",  # invoke sends the user's token
    }
    with pytest.raises(lumi.FunctionError) as caught:  # ofetch's error.data, here .data
        client.functions.invoke("noSuchFunction", {"method": "POST"})
    assert caught.value.status == 404 and "unknown function" in caught.value.data["error"]


# -- every example has its twin -------------------------------------------------------------------
def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def test_every_javascript_readme_example_has_a_twin(js_sdk: Any) -> None:
    readme = (JS_CACHE / "node_modules" / "@lumi.new" / "sdk" / "README.md").read_text("utf-8")
    examples = re.findall(r"```typescript\n(.*?)```", readme, re.S)
    assert len(examples) >= 29
    quoted = [
        _lines(inspect.getdoc(test) or "")
        for name, test in globals().items()
        if name.startswith("test_") and callable(test)
    ]
    missing = [
        example.strip().splitlines()[0]
        for example in examples
        if not any(_lines(example) in doc for doc in quoted)
    ]
    assert missing == [], "JavaScript README examples without a Python twin"
