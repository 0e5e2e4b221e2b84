/* test_auth.c — auth.h's pieces: the hello's encoding and its strict
 * decoding, proofs that depend on every input and on the key, session keys
 * that agree between the two sides and differ per direction, sealed frames
 * that open only unchanged, and the anti-replay window. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "check.h"
#include "proto.h"

static const uint8_t key_a[DAFS_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t key_b[DAFS_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11 };

static struct dafs_auth_hello make_hello(void)
{
	struct dafs_auth_hello h;

	memset(&h, 0, sizeof(h));
	strcpy(h.name, "alice");
	for (unsigned i = 0; i < DAFS_NONCE_BYTES; i++) {
		h.client_nonce[i] = (uint8_t)i;
		h.server_nonce[i] = (uint8_t)(100 + i);
	}
	return h;
}

static void hello_coding(void)
{
	struct dafs_auth_hello h = make_hello(), out;
	uint8_t buf[DAFS_AUTH_MAX];
	int n;

	memset(&out, 0, sizeof(out));   /* the name's tail is compared too */
	dafs_auth_client_proof(key_a, &h, h.proof);
	n = dafs_auth_hello_encode(&h, buf, sizeof(buf));
	CHECK_EQ(n, 1 + 5 + 2 * DAFS_NONCE_BYTES + DAFS_PROOF_BYTES, "hello encodes to its length");
	CHECK(n > 0 && dafs_auth_hello_decode(buf, (size_t)n, &out) == 0 &&
	      memcmp(&h, &out, sizeof(h)) == 0, "and decodes to the same hello");
	CHECK(dafs_auth_hello_decode(buf, (size_t)n - 1, &out) == -EBADMSG, "a short hello is refused");
	CHECK(dafs_auth_hello_decode(buf, (size_t)n + 1, &out) == -EBADMSG,
	      "a hello with a byte too many is refused");
	CHECK(dafs_auth_hello_decode(buf, 0, &out) == -EBADMSG, "an empty hello is refused");
	buf[0] = 0;
	CHECK(dafs_auth_hello_decode(buf, (size_t)n, &out) == -EBADMSG, "an empty name is refused");
	buf[0] = 5;
	buf[3] = '\0';
	CHECK(dafs_auth_hello_decode(buf, (size_t)n, &out) == -EBADMSG,
	      "a name with a NUL inside is refused");
	CHECK(dafs_auth_hello_encode(&h, buf, 10) == -EINVAL, "encoding into too little room fails");
}

static void proofs(void)
{
	struct dafs_auth_hello h = make_hello(), h2;
	uint8_t p[DAFS_PROOF_BYTES], q[DAFS_PROOF_BYTES], s1[DAFS_PROOF_BYTES],
		s2[DAFS_PROOF_BYTES];

	dafs_auth_client_proof(key_a, &h, p);
	dafs_auth_client_proof(key_a, &h, q);
	CHECK(dafs_auth_proof_equal(p, q), "the client proof is a function of key and hello");
	dafs_auth_client_proof(key_b, &h, q);
	CHECK(!dafs_auth_proof_equal(p, q), "another key gives another proof");
	h2 = h;
	h2.server_nonce[31] ^= 1;
	dafs_auth_client_proof(key_a, &h2, q);
	CHECK(!dafs_auth_proof_equal(p, q), "another server nonce gives another proof");
	h2 = h;
	h2.client_nonce[0] ^= 0x80;
	dafs_auth_client_proof(key_a, &h2, q);
	CHECK(!dafs_auth_proof_equal(p, q), "another client nonce gives another proof");
	h2 = h;
	strcpy(h2.name, "alicf");
	dafs_auth_client_proof(key_a, &h2, q);
	CHECK(!dafs_auth_proof_equal(p, q), "another name gives another proof");
	dafs_auth_server_proof(key_a, &h, 42, s1);
	dafs_auth_server_proof(key_a, &h, 43, s2);
	CHECK(!dafs_auth_proof_equal(s1, s2), "the server proof covers the session id");
	CHECK(!dafs_auth_proof_equal(p, s1) && !dafs_auth_proof_equal(p, s2),
	      "client and server proofs differ (neither reflects as the other)");
}

/* A small NULL request, encoded, with room for the trailer. */
static size_t make_frame(uint8_t *buf, size_t cap, uint32_t seq)
{
	struct dafs_compound req;

	memset(&req, 0, sizeof(req));
	req.hdr.session = 0x1122334455667788ull;
	req.hdr.seq = seq;
	req.nops = 1;
	req.ops[0].opcode = DAFS_OP_WRITE;
	req.ops[0].a.io.fh = 7;
	req.ops[0].a.io.len = 4;
	req.ops[0].a.io.data = "abcd";
	return (size_t)dafs_encode_request(buf, cap, &req);
}

static void sealing(void)
{
	struct dafs_auth_hello h = make_hello();
	struct dafs_mac client, server, wrong;
	struct dafs_compound out;
	uint8_t frame[512], copy[512];
	size_t len, sealed, open_len = 0;
	struct dafs_hdr hdr;

	dafs_auth_session_keys(key_a, &h, false, &client);
	dafs_auth_session_keys(key_a, &h, true, &server);
	dafs_auth_session_keys(key_b, &h, true, &wrong);
	CHECK(memcmp(client.tx_key, server.rx_key, 32) == 0 &&
	      memcmp(client.rx_key, server.tx_key, 32) == 0, "both sides derive the same keys");
	CHECK(memcmp(client.tx_key, client.rx_key, 32) != 0, "each direction has its own key");
	CHECK(memcmp(client.tx_key, key_a, 32) != 0, "and neither is the client's key");

	len = make_frame(frame, sizeof(frame) - DAFS_MAC_TRAILER, 1);
	sealed = dafs_mac_seal(&client, frame, len);
	CHECK_EQ(sealed, len + DAFS_MAC_TRAILER, "sealing adds the trailer");
	CHECK(dafs_decode_hdr(frame, sealed, &hdr) == 0 && (hdr.flags & DAFS_HF_MAC),
	      "the sealed frame's header decodes, with DAFS_HF_MAC");
	CHECK(dafs_decode_request(frame, sealed, &out) == -EBADMSG,
	      "the body of a frame not yet opened does not decode");
	memcpy(copy, frame, sealed);
	CHECK(dafs_mac_open(&wrong, copy, sealed, &open_len) == -EBADMSG,
	      "a frame sealed with another key is refused");
	CHECK(dafs_mac_open(&client, copy, sealed, &open_len) == -EBADMSG,
	      "a frame reflected to its sender is refused");
	for (size_t bit = 0; bit < sealed * 8; bit += 7) {
		memcpy(copy, frame, sealed);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (dafs_mac_open(&server, copy, sealed, &open_len) == 0) {
			CHECK(0, "a frame with bit %zu flipped opens", bit);
			return;
		}
	}
	CHECK(1, "a bit flipped anywhere (header, body, inline data, trailer) is refused");
	CHECK(server.rx_top == 0 && server.rx_seen == 0, "refused frames changed nothing");
	memcpy(copy, frame, sealed);
	CHECK(dafs_mac_open(&server, copy, sealed - 1, &open_len) == -EBADMSG,
	      "a truncated frame is refused");
	memcpy(copy, frame, sealed);
	CHECK(dafs_mac_open(&server, copy, sealed, &open_len) == 0 && open_len == len,
	      "the frame opens unchanged");
	CHECK(dafs_decode_request(copy, open_len, &out) == 0 && out.nops == 1 &&
	      memcmp(out.ops[0].a.io.data, "abcd", 4) == 0 && !(out.hdr.flags & DAFS_HF_MAC),
	      "and then decodes, without DAFS_HF_MAC");
	memcpy(copy, frame, sealed);
	CHECK(dafs_mac_open(&server, copy, sealed, &open_len) == -EALREADY,
	      "the same frame again is a replay");
	len = make_frame(frame, sizeof(frame), 1);
	CHECK(dafs_mac_open(&server, frame, len, &open_len) == -EBADMSG,
	      "an unsealed frame is refused");
}

/* Opens a copy, as a frame arriving afresh (opening clears DAFS_HF_MAC). */
static int open_copy(struct dafs_mac *mac, const uint8_t *frame, size_t len)
{
	uint8_t copy[128];
	size_t n;

	memcpy(copy, frame, len);
	return dafs_mac_open(mac, copy, len, &n);
}

/* Frames sealed in order 1..n, opened in another order. */
static void window(void)
{
	struct dafs_auth_hello h = make_hello();
	struct dafs_mac client, server;
	static uint8_t frames[200][128];
	size_t lens[200];
	int ok = 0;

	dafs_auth_session_keys(key_a, &h, false, &client);
	dafs_auth_session_keys(key_a, &h, true, &server);
	for (unsigned i = 0; i < 200; i++) {
		size_t len = make_frame(frames[i], sizeof(frames[i]) - DAFS_MAC_TRAILER, i);
		lens[i] = dafs_mac_seal(&client, frames[i], len);
	}
	/* Sequence 100 first, then 99 .. 37 (inside the window of 64), in
	 * reverse: all accepted once. */
	ok += open_copy(&server, frames[99], lens[99]) == 0;
	for (int i = 98; i >= 36; i--)
		ok += open_copy(&server, frames[i], lens[i]) == 0;
	CHECK_EQ(ok, 64, "frames reordered inside the window are accepted");
	CHECK(open_copy(&server, frames[35], lens[35]) == -EALREADY,
	      "a frame older than the window is refused");
	CHECK(open_copy(&server, frames[60], lens[60]) == -EALREADY,
	      "a frame inside the window seen before is refused");
	CHECK(open_copy(&server, frames[199], lens[199]) == 0,
	      "a jump ahead is accepted");
	CHECK(open_copy(&server, frames[150], lens[150]) == 0,
	      "and what it skipped, inside the window, still is");
	CHECK(open_copy(&server, frames[120], lens[120]) == -EALREADY,
	      "but not what fell out of it");
}

int main(void)
{
	if (dafs_auth_init() != 0) {
		printf("Bail out! libsodium does not start\n");
		return 1;
	}
	hello_coding();
	proofs();
	sealing();
	window();
	return check_done();
}
