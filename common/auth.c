/* auth.c — session set-up proofs, session keys and sealed frames: auth.h
 * says what each is; libsodium computes them. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "auth.h"
#include "proto.h"

#define HDR_FLAGS_OFFSET 6   /* magic u32, version u16, then flags u16 (proto.c's codec_hdr) */

int dafs_auth_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int dafs_auth_hello_encode(const struct dafs_auth_hello *h, void *buf, size_t cap)
{
	size_t name_len = strnlen(h->name, sizeof(h->name));
	uint8_t *p = buf;

	if (name_len == 0 || name_len > DAFS_KEY_NAME_MAX ||
	    cap < 1 + name_len + 2 * DAFS_NONCE_BYTES + DAFS_PROOF_BYTES)
		return -EINVAL;
	*p++ = (uint8_t)name_len;
	memcpy(p, h->name, name_len);
	p += name_len;
	memcpy(p, h->client_nonce, DAFS_NONCE_BYTES);
	p += DAFS_NONCE_BYTES;
	memcpy(p, h->server_nonce, DAFS_NONCE_BYTES);
	p += DAFS_NONCE_BYTES;
	memcpy(p, h->proof, DAFS_PROOF_BYTES);
	p += DAFS_PROOF_BYTES;
	return (int)(p - (uint8_t *)buf);
}

int dafs_auth_hello_decode(const void *buf, size_t len, struct dafs_auth_hello *h)
{
	const uint8_t *p = buf;
	size_t name_len;

	if (len < 1)
		return -EBADMSG;
	name_len = p[0];
	if (name_len == 0 || name_len > DAFS_KEY_NAME_MAX ||
	    len != 1 + name_len + 2 * DAFS_NONCE_BYTES + DAFS_PROOF_BYTES)
		return -EBADMSG;
	p++;
	/* The name is looked up in the keys table: no NUL inside it. */
	if (memchr(p, '\0', name_len))
		return -EBADMSG;
	memcpy(h->name, p, name_len);
	h->name[name_len] = '\0';
	p += name_len;
	memcpy(h->client_nonce, p, DAFS_NONCE_BYTES);
	p += DAFS_NONCE_BYTES;
	memcpy(h->server_nonce, p, DAFS_NONCE_BYTES);
	p += DAFS_NONCE_BYTES;
	memcpy(h->proof, p, DAFS_PROOF_BYTES);
	return 0;
}

/* BLAKE2b-256 keyed with the client's key over label | Ns | Nc | name
 * [| session id]. */
static void keyed_hash(const uint8_t key[DAFS_KEY_BYTES], const char *label,
		       const struct dafs_auth_hello *h, const uint64_t *session,
		       uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, DAFS_KEY_BYTES, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label) + 1);
	crypto_generichash_update(&st, h->server_nonce, DAFS_NONCE_BYTES);
	crypto_generichash_update(&st, h->client_nonce, DAFS_NONCE_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)h->name, strlen(h->name) + 1);
	if (session) {
		uint8_t le[8];
		for (unsigned i = 0; i < 8; i++)
			le[i] = (uint8_t)(*session >> (8 * i));
		crypto_generichash_update(&st, le, sizeof(le));
	}
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

void dafs_auth_client_proof(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    uint8_t proof[DAFS_PROOF_BYTES])
{
	keyed_hash(key, "dafs-client-proof", h, NULL, proof);
}

void dafs_auth_server_proof(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    uint64_t session, uint8_t proof[DAFS_PROOF_BYTES])
{
	keyed_hash(key, "dafs-server-proof", h, &session, proof);
}

bool dafs_auth_proof_equal(const uint8_t a[DAFS_PROOF_BYTES], const uint8_t b[DAFS_PROOF_BYTES])
{
	return sodium_memcmp(a, b, DAFS_PROOF_BYTES) == 0;
}

void dafs_auth_session_keys(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    bool is_server, struct dafs_mac *mac)
{
	uint8_t master[crypto_kdf_KEYBYTES];
	uint8_t *c2s = is_server ? mac->rx_key : mac->tx_key;
	uint8_t *s2c = is_server ? mac->tx_key : mac->rx_key;

	memset(mac, 0, sizeof(*mac));
	keyed_hash(key, "dafs-session-key", h, NULL, master);
	crypto_kdf_derive_from_key(c2s, 32, 1, "dafs-mac", master);
	crypto_kdf_derive_from_key(s2c, 32, 2, "dafs-mac", master);
	sodium_memzero(master, sizeof(master));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The tag over frame[0 .. len + 8) (the frame and its sequence). */
static void tag_of(const uint8_t key[32], uint64_t seq, const uint8_t *frame, size_t len,
		   uint8_t tag[DAFS_MAC_TAG_BYTES])
{
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	unsigned long long tag_len;
	uint8_t none[1] = { 0 };

	put_le64(nonce, seq);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(none, tag, &tag_len, none, 0,
							   frame, len + 8, NULL, nonce, key);
}

size_t dafs_mac_seal(struct dafs_mac *mac, void *frame, size_t len)
{
	uint8_t *f = frame;
	uint16_t flags = (uint16_t)(f[HDR_FLAGS_OFFSET] | f[HDR_FLAGS_OFFSET + 1] << 8);

	flags |= DAFS_HF_MAC;
	f[HDR_FLAGS_OFFSET] = (uint8_t)flags;
	f[HDR_FLAGS_OFFSET + 1] = (uint8_t)(flags >> 8);
	put_le64(f + len, ++mac->tx_seq);
	tag_of(mac->tx_key, mac->tx_seq, f, len, f + len + 8);
	return len + DAFS_MAC_TRAILER;
}

int dafs_mac_open(struct dafs_mac *mac, void *frame, size_t len, size_t *out_len)
{
	uint8_t *f = frame;
	uint8_t tag[DAFS_MAC_TAG_BYTES];
	uint64_t seq;
	uint16_t flags;
	size_t body;

	if (len < DAFS_HDR_SIZE + DAFS_MAC_TRAILER)
		return -EBADMSG;
	flags = (uint16_t)(f[HDR_FLAGS_OFFSET] | f[HDR_FLAGS_OFFSET + 1] << 8);
	if (!(flags & DAFS_HF_MAC))
		return -EBADMSG;
	body = len - DAFS_MAC_TRAILER;
	seq = get_le64(f + body);
	if (seq == 0)
		return -EBADMSG;
	if (seq <= mac->rx_top &&
	    (mac->rx_top - seq >= DAFS_MAC_WINDOW || (mac->rx_seen >> (mac->rx_top - seq)) & 1))
		return -EALREADY;
	tag_of(mac->rx_key, seq, f, body, tag);
	if (crypto_verify_16(tag, f + body + 8) != 0)
		return -EBADMSG;
	if (seq > mac->rx_top) {
		uint64_t shift = seq - mac->rx_top;
		mac->rx_seen = shift >= 64 ? 0 : mac->rx_seen << shift;
		mac->rx_seen |= 1;
		mac->rx_top = seq;
	} else {
		mac->rx_seen |= UINT64_C(1) << (mac->rx_top - seq);
	}
	flags &= (uint16_t)~DAFS_HF_MAC;
	f[HDR_FLAGS_OFFSET] = (uint8_t)flags;
	f[HDR_FLAGS_OFFSET + 1] = (uint8_t)(flags >> 8);
	*out_len = body;
	return 0;
}

void dafs_mac_wipe(struct dafs_mac *mac)
{
	sodium_memzero(mac, sizeof(*mac));
}
