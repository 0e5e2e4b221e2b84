/* auth.h — how a client with a key (keyfile.h) opens a session, and how
 * every frame after that is sealed with a MAC. The one home of the design;
 * libsodium does all the cryptography.
 *
 * Set-up (challenge-response over both nonces; the key never crosses the wire):
 *
 *   client -> CONNECT                      (to the listening endpoint)
 *   server <- CONNECT reply, nonce Ns      32 random bytes, kept in the
 *                                          server's challenge table: at most
 *                                          DAFS_CHALLENGES_MAX, each for
 *                                          DAFS_CHALLENGE_LIFE_MS, used once,
 *                                          the oldest evicted first
 *   client -> SESSION_OPEN, auth_method DAFS_AUTH_KEY, auth = hello:
 *             u8 name length, name, Nc (32 random bytes), Ns, client proof
 *             client proof = BLAKE2b-256 keyed with K over
 *                            "dafs-client-proof" | Ns | Nc | name
 *   server    takes Ns out of the table (unknown, used or stale: EACCES),
 *             finds K by name (unknown: EACCES), compares the proof in
 *             constant time (wrong: EACCES), derives the session keys
 *   server <- SESSION_OPEN reply, sealed (below), carrying the server proof
 *             = BLAKE2b-256 keyed with K over
 *               "dafs-server-proof" | Ns | Nc | name | session id (u64 LE)
 *   client    checks the seal and the proof (either wrong: EACCES): the
 *             server knows K too.
 *
 * A recorded exchange cannot be replayed: its Ns was used once and is gone,
 * and a fresh Ns makes every proof and key different. The two proofs have
 * different labels, so neither can be reflected as the other.
 *
 * Session keys: master = BLAKE2b-256 keyed with K over "dafs-session-key" |
 * Ns | Nc | name; crypto_kdf_derive_from_key(master, "dafs-mac") gives
 * subkey 1 for client-to-server frames and subkey 2 for server-to-client
 * frames (a frame cannot be reflected back to its sender either).
 *
 * Sealed frames: every frame of a keyed session after set-up, both ways,
 * sets DAFS_HF_MAC in its header and ends with a trailer after its body
 * (body_len does not count it):
 *
 *     u64 LE sequence   this direction's frame counter, from 1, never reused
 *     16-byte tag       crypto_aead_chacha20poly1305_ietf with an empty
 *                       message, the direction's key, nonce = sequence (u64
 *                       LE) | 4 zero bytes, and as associated data the frame
 *                       (header, body, inline data) and the sequence
 *
 * The receiver checks the seal before it decodes anything beyond the
 * header (it needs the header's session id to find the key): a frame whose
 * sequence is older than the window (DAFS_MAC_WINDOW frames behind the
 * newest) or was seen already, or whose tag is wrong, is refused and
 * changes nothing. A resent request or a reply from the server's reply
 * cache is sealed afresh, with a new sequence.
 *
 * Refusals: the server answers a refused frame with an unsealed EBADMSG
 * (to the session's address, the only one it knows: the fabric does not
 * say who sent a frame) and logs why. A client takes only sealed replies
 * once its session is set up, and that unsealed EBADMSG, which fails the
 * request of its slot and sequence at once (forging one takes the session
 * id, which only the path sees). During set-up an unsealed reply may
 * refuse the session (EACCES), never grant it.
 *
 * What is not covered: RDMA bulk data (the server reads and writes client
 * memory directly; as NFS over RDMA and SMB Direct, the fabric is trusted
 * for it), CONNECT and SESSION_OPEN's other fields (pid, uid, gid, the
 * client's description, its address), and confidentiality (nothing is
 * encrypted). */
#ifndef DAFS_AUTH_H
#define DAFS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"

#define DAFS_AUTH_NONE         0
#define DAFS_AUTH_KEY          1
#define DAFS_NONCE_BYTES       32
#define DAFS_PROOF_BYTES       32
#define DAFS_MAC_TAG_BYTES     16
#define DAFS_MAC_TRAILER       (8 + DAFS_MAC_TAG_BYTES)
#define DAFS_MAC_WINDOW        64
#define DAFS_CHALLENGES_MAX    1024
#define DAFS_CHALLENGE_LIFE_MS 30000

/* What SESSION_OPEN's auth field carries for DAFS_AUTH_KEY. */
struct dafs_auth_hello {
	char name[DAFS_KEY_NAME_MAX + 1];
	uint8_t client_nonce[DAFS_NONCE_BYTES];
	uint8_t server_nonce[DAFS_NONCE_BYTES];
	uint8_t proof[DAFS_PROOF_BYTES];
};

/* One session's sealing state, one per side. */
struct dafs_mac {
	uint8_t tx_key[32], rx_key[32];
	uint64_t tx_seq;           /* last sequence sent */
	uint64_t rx_top;           /* newest sequence accepted */
	uint64_t rx_seen;          /* bit i: rx_top - i was accepted */
};

/* libsodium's start; 0 or -EIO. Safe to call from any thread, any number
 * of times. */
int dafs_auth_init(void);

/* Encodes the hello into buf (DAFS_AUTH_MAX bytes suffice); returns its
 * length or -EINVAL. Decode returns 0 or -EBADMSG. */
int dafs_auth_hello_encode(const struct dafs_auth_hello *h, void *buf, size_t cap);
int dafs_auth_hello_decode(const void *buf, size_t len, struct dafs_auth_hello *h);

void dafs_auth_client_proof(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    uint8_t proof[DAFS_PROOF_BYTES]);
void dafs_auth_server_proof(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    uint64_t session, uint8_t proof[DAFS_PROOF_BYTES]);
/* Constant time. */
bool dafs_auth_proof_equal(const uint8_t a[DAFS_PROOF_BYTES], const uint8_t b[DAFS_PROOF_BYTES]);

/* Fills mac with the session's keys for one side (is_server picks which
 * key sends) and fresh counters. */
void dafs_auth_session_keys(const uint8_t key[DAFS_KEY_BYTES], const struct dafs_auth_hello *h,
			    bool is_server, struct dafs_mac *mac);

/* Seals the encoded frame of `len` bytes in place: sets DAFS_HF_MAC and
 * appends the trailer. The buffer must hold len + DAFS_MAC_TRAILER bytes.
 * Returns the sealed length. */
size_t dafs_mac_seal(struct dafs_mac *mac, void *frame, size_t len);

/* Checks a sealed frame of `len` bytes and, when it is good, records its
 * sequence, clears DAFS_HF_MAC in place and puts the unsealed length in
 * *out_len (the frame then decodes as any other). Returns 0, -EBADMSG for
 * a frame not sealed or with a wrong tag, -EALREADY for a sequence seen
 * already or too old. A refused frame changes nothing. */
int dafs_mac_open(struct dafs_mac *mac, void *frame, size_t len, size_t *out_len);

void dafs_mac_wipe(struct dafs_mac *mac);

#endif
