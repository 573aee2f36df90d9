// A third-party DDP client (simpleddp over ws) against Parley's Rocket.Chat
// dialect: the legacy method flow, the room streams, refusals, and a
// reconnect in the middle of a 50-message burst. Run by the Go test
// TestNodeDDPClient with PARLEY_URL and AGENT_TOKEN set; exits non-zero on
// the first failed check.
'use strict';
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const SimpleDDP = require('simpleddp');

const base = process.env.PARLEY_URL;
const agentToken = process.env.AGENT_TOKEN;
const wsURL = base.replace(/^http/, 'ws') + '/websocket';

function until(what, cond, ms = 10000) {
	return new Promise((resolve, reject) => {
		const start = Date.now();
		const tick = () => {
			const v = cond();
			if (v) return resolve(v);
			if (Date.now() - start > ms) return reject(new Error('timed out waiting for ' + what));
			setTimeout(tick, 10);
		};
		tick();
	});
}

async function native(method, path, body) {
	const res = await fetch(base + path, {
		method,
		headers: { Authorization: 'Bearer ' + agentToken, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

// raw sends frames on a socket of its own and returns the server's answers.
async function raw(frames) {
	const ws = new WebSocket(wsURL);
	const got = [];
	ws.on('message', (d) => got.push(JSON.parse(d.toString())));
	await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
	for (const f of frames) ws.send(f);
	return { ws, got };
}

// simpleddp leaves the promise of a refused subscription's first start
// unhandled; that refusal is checked below, anything else fails.
process.on('unhandledRejection', (e) => {
	if (e && e.error === 'not-allowed') return;
	console.error('unhandled rejection:', e);
	process.exit(1);
});

async function main() {
	// Malformed frames and a ping with an id, on a raw socket.
	{
		const { ws, got } = await raw([
			'{"msg":"connect","version":"1","support":["1"]}',
			'{"msg":"ping","id":"abc"}',
			'{"msg":',
			'{"nomsg":true}',
		]);
		await until('pong and two errors', () => got.filter((f) => f.msg === 'error').length >= 2 && got.find((f) => f.msg === 'pong'));
		assert.equal(got.find((f) => f.msg === 'pong').id, 'abc');
		assert.ok(got.find((f) => f.msg === 'connected').session);
		ws.close();
	}

	const server = new SimpleDDP({ endpoint: wsURL, SocketConstructor: WebSocket, reconnectInterval: 200 });
	let connects = 0;
	server.on('connected', () => connects++);
	await server.connect();
	const token = 'node-' + Math.random().toString(36).slice(2);

	const init = await server.call('livechat:getInitialData', token, null);
	assert.equal(init.enabled, true);
	assert.equal(init.online, true);
	assert.ok(Array.isArray(init.departments) && init.departments.length >= 1);
	assert.equal(init.room, null);

	await assert.rejects(server.call('no:such:method'), (e) => e.error === 404);

	const reg = await server.call('livechat:registerGuest', { token, name: 'Node Guest', email: 'node@example.com' });
	assert.ok(reg.userId);
	assert.equal(reg.visitor.token, token);
	assert.match(reg.visitor.username, /^guest-/);
	await server.call('livechat:setUpConnection', { token });

	const sent = await server.call('sendMessageLivechat', { _id: 'node-m1', rid: 'node-room', msg: 'hello', token });
	assert.equal(sent._id, 'node-m1');
	assert.equal(sent.newRoom, true);
	assert.equal(sent.u._id, reg.userId);
	assert.ok(sent.ts instanceof Date, 'ts is decoded from EJSON as a Date');
	const rid = sent.rid;

	const frames = [];
	server.on('changed', (m) => frames.push(m));
	const extra = (t) => ({ useCollection: false, args: [{ token: t, visitorToken: t }] });

	await assert.rejects(server.subscribe('stream-room-messages', rid, extra('wrong-token')).ready(), (e) => e.error === 'not-allowed');
	await assert.rejects(server.call('livechat:getAgentData', { roomId: rid, token: 'wrong-token' }), (e) => e.error === 'error-invalid-room');

	await server.subscribe('stream-room-messages', rid, extra(token)).ready();
	await server.subscribe('stream-livechat-room', rid, extra(token)).ready();
	await server.subscribe('stream-notify-room', rid + '/typing', extra(token)).ready();

	// The agent takes the chat on the native API.
	const chatID = await until('an offer', async () => true).then(async () => {
		for (let i = 0; i < 500; i++) {
			const chats = await native('GET', '/api/v1/me/chats');
			const c = chats.find((c) => c.offered_to);
			if (c) return c.id;
			await new Promise((r) => setTimeout(r, 20));
		}
		throw new Error('no offer');
	});
	await native('POST', `/api/v1/chats/${chatID}/accept`);
	const ev = (coll, name, pred) => frames.find((m) => m.collection === coll && m.fields.eventName === name && pred(m.fields.args));
	await until('agentData', () => ev('stream-livechat-room', rid, (a) => a[0].type === 'agentData'));

	await native('POST', `/api/v1/chats/${chatID}/typing`, { typing: true });
	await until('typing', () => ev('stream-notify-room', rid + '/typing', (a) => a[1] === true));

	await native('POST', `/api/v1/chats/${chatID}/messages`, { text: 'Hi from the agent' });
	const reply = (await until('reply', () => ev('stream-room-messages', rid, (a) => a[0].msg === 'Hi from the agent'))).fields.args[0];
	assert.equal(reply.token, undefined);
	assert.ok(reply.u.username);
	assert.ok(reply.ts instanceof Date || typeof reply.ts.$date === 'number');

	// The visitor types; the server accepts it.
	await server.call('stream-notify-room', rid + '/typing', reg.visitor.username, true, { token });

	// A burst of 50, with the socket dropped after the tenth.
	const burst = (async () => {
		for (let i = 0; i < 50; i++) await native('POST', `/api/v1/chats/${chatID}/messages`, { text: 'burst ' + i });
	})();
	await until('burst 9', () => ev('stream-room-messages', rid, (a) => a[0].msg === 'burst 9'));
	server.ddpConnection.socket.rawSocket.terminate();
	await until('reconnect', () => server.connected === false, 5000).catch(() => {});
	await until('reconnected', () => server.connected && connects >= 2, 10000);
	await server.call('livechat:setUpConnection', { token });
	await burst;
	const hist = await server.call('livechat:loadHistory', { token, rid, limit: 500 });
	const ids = new Set();
	const texts = new Map();
	for (const m of hist.messages) {
		assert.ok(!ids.has(m._id), 'history repeats ' + m._id);
		ids.add(m._id);
		texts.set(m.msg, (texts.get(m.msg) || 0) + 1);
	}
	for (let i = 0; i < 50; i++) assert.equal(texts.get('burst ' + i), 1, `burst ${i} once in history`);

	// The visitor closes the room over REST; livechat-close arrives.
	await server.subscribe('stream-room-messages', rid, extra(token)).ready();
	const res = await fetch(base + '/api/v1/livechat/room.close', {
		method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ rid, token }),
	});
	assert.equal(res.status, 200);
	await until('livechat-close', () => ev('stream-room-messages', rid, (a) => a[0].t === 'livechat-close'));

	await server.disconnect();
	console.log('ok: simpleddp flow, streams, refusals, reconnect mid-burst');
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
