"""The official JavaScript client (@lumi.new/sdk) works against the emulator, end to end."""

from __future__ import annotations

from typing import Any

import pytest

from lumi.emulator.server import Emulator

from .conftest import FUNCTIONS_FILE

JS_APP = r"""
import fs from 'fs';
import { createClient } from '@lumi.new/sdk';
const { url, pid, token } = JSON.parse(fs.readFileSync(0, 'utf8'));
const privately = { headers: { 'X-Lumi-Emulator-Token': token } };
const out = {};
const lumi = createClient({ projectId: pid, apiBaseUrl: url, authOrigin: 'http://auth.invalid' });
await lumi.auth.sendOtp({ email: 'js@example.com', type: 'register' });
const { data: { otp } } = await (await fetch(`${url}/_emulator/otp?email=js@example.com`, privately)).json();
const signed = await lumi.auth.signUpWithPassword({ email: 'js@example.com', password: 'pässwörd', otp, userName: 'JS' });
out.role = signed.user.userRole;
out.again = (await lumi.auth.signInWithPassword({ email: 'js@example.com', password: 'pässwörd' })).user.userId === signed.user.userId;
out.me = (await lumi.auth.refreshUser()).email;
await lumi.auth.sendOtp({ email: 'js@example.com', type: 'resetPassword' });
const reset = (await (await fetch(`${url}/_emulator/otp?email=js@example.com`, privately)).json()).data.otp;
await lumi.auth.resetPassword({ email: 'js@example.com', newPassword: 'n3w-pässwörd', otp: reset });
out.reset = (await lumi.auth.signInWithPassword({ email: 'js@example.com', password: 'n3w-pässwörd' })).user.userId === signed.user.userId;
out.old = await lumi.auth.signInWithPassword({ email: 'js@example.com', password: 'pässwörd' }).then(() => 'accepted', (e) => e.message);
const posts = lumi.entities.Posts;
const a = await posts.create({ title: 'A', n: 1, t: 'é' });
const [b, c] = await posts.createMany([{ title: 'B', n: 2 }, { title: 'C', n: 3 }]);
out.creator = a.creator === signed.user.userId;
out.all = (await posts.list({ sort: { n: -1 } })).list.map(d => d.title);
out.page = await posts.list({ filter: { n: { $gte: 2 } }, sort: { n: 1 }, limit: 1, skip: 1 }).then(p => [p.total, p.list[0].title]);
out.updated = (await posts.update(a._id, { 'stats.total': 3, done: true })).stats;
out.got = (await posts.get(a._id)).done;
await posts.deleteMany([b._id, c._id]);
await posts.delete(a._id);
out.left = (await posts.list()).total;
await lumi.tools.email.send({ to: 'x@example.com', subject: 'Hi', html: '<b>hi</b>', replyTo: 'r@example.com' });
const [up] = await lumi.tools.file.upload([new File(['file body'], 'a.txt', { type: 'text/plain' })]);
out.file = await (await fetch(up.fileUrl)).text();
await lumi.tools.file.delete([up.fileUrl]);
out.text = (await lumi.tools.ai.generateText({ messages: [{ role: 'user', content: 'hello' }] })).content;
const stream = await lumi.tools.ai.parseStream(await lumi.tools.ai.generateTextStream({ messages: [{ role: 'user', content: 'hello' }] }));
const deltas = [];
for await (const chunk of stream) deltas.push(chunk.data.content);
out.streamed = deltas.join('');
out.chunks = deltas.length;
const image = await lumi.tools.ai.generateImage({ messages: [{ role: 'user', content: 'a cat' }] });
out.image = [image.generationStatus, (await (await fetch(image.imageURL)).arrayBuffer()).byteLength > 0];
out.fn = await lumi.functions.invoke('echo', { method: 'POST', body: { a: 1 } }).then(r => [r.json, r.user.email]);
try { await posts.update('0123456789abcdef01234567', { x: 1 }); } catch (e) { out.error = e.message; }
console.log(JSON.stringify(out));
"""


@pytest.mark.node
def test_the_javascript_client_against_the_emulator(js_sdk: Any) -> None:
    with Emulator(functions=FUNCTIONS_FILE) as emu:
        out = js_sdk.run(
            JS_APP,
            {"url": emu.url, "pid": "p_js", "token": emu.private_token},
            env={"LUMI_API_KEY": "k"},
        )
        outbox = emu.outbox("p_js")
    assert out["role"] == "ADMIN" and out["again"] and out["me"] == "js@example.com"
    assert out["reset"] and out["old"] != "accepted"  # the old password no longer works
    assert out["creator"] and out["all"] == ["C", "B", "A"] and out["page"] == [2, "C"]
    assert out["updated"] == {"total": 3} and out["got"] is True and out["left"] == 0
    assert out["file"] == "file body"
    assert out["text"].startswith("[lumi emulator]") and out["streamed"] == out["text"]
    assert out["chunks"] > 1
    assert out["image"] == ["SUCCESS", True]
    assert out["fn"] == [{"a": 1}, "js@example.com"]
    assert "no document 0123456789abcdef01234567" in out["error"]
    assert [m["subject"] for m in outbox if m["kind"] == "email"] == ["Hi"]
