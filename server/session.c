/* session.c — slot table with reply cache (exactly-once execution, as NFSv4.1
 * sessions: RFC 8881 section 2.10.6) and the per-session handle table. */
#include "session.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Shared by every worker: each adds and removes its own sessions' files. */
static atomic_uint open_fds;

unsigned session_open_fds(void)
{
	return atomic_load_explicit(&open_fds, memory_order_relaxed);
}

struct session *session_create(uint64_t id, fi_addr_t peer, unsigned nslots)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->slots = calloc(nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->id = id;
	s->peer = peer;
	s->nslots = nslots;
	return s;
}

void session_destroy(struct session *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nslots; i++)
		free(s->slots[i].reply);
	session_close_handles(s);
	free(s->slots);
	free(s->handles);
	free(s->regions);
	if (s->mac) {
		dafs_mac_wipe(s->mac);
		free(s->mac);
	}
	free(s);
}

void session_close_handles(struct session *s)
{
	for (unsigned i = 0; i < s->nhandles; i++) {
		if (s->handles[i].fd >= 0) {
			close(s->handles[i].fd);
			s->handles[i].fd = -1;
		}
	}
	atomic_fetch_sub_explicit(&open_fds, s->nopen, memory_order_relaxed);
	s->nopen = 0;
}

enum slot_verdict session_slot_check(struct session *s, uint16_t slot_id, uint32_t seq)
{
	struct slot *slot;

	if (slot_id >= s->nslots)
		return SLOT_BAD;
	slot = &s->slots[slot_id];
	if (slot->used && seq == slot->seq) {
		if (slot->state == SLOT_BUSY)
			return SLOT_IN_PROGRESS;
		if (slot->has_reply)
			return SLOT_REPLAY;
		if (!slot->undone)
			return SLOT_BAD;
		slot->undone = false;
		slot->state = SLOT_BUSY;
		return SLOT_NEW;
	}
	/* Sequence numbers start at 1 and step by one per slot (wrapping). A
	 * client may only send the next one once the previous reply arrived. */
	/* A restored slot's recorded reply answers its own seq; the client's
	 * next requests on it, unrecorded ones, came after. */
	if ((!slot->used || (slot->restored && seq != slot->seq)) && s->reclaimed) {
		slot->seq = seq - 1;
		slot->restored = false;
	}
	if (seq != (uint32_t)(slot->seq + 1) || slot->state == SLOT_BUSY)
		return SLOT_BAD;
	slot->used = true;
	slot->seq = seq;
	slot->state = SLOT_BUSY;
	slot->undone = false;
	slot->recorded = false;
	free(slot->reply);
	slot->reply = NULL;
	slot->has_reply = false;
	return SLOT_NEW;
}

int session_slot_finish(struct session *s, uint16_t slot_id, const void *reply, size_t len)
{
	struct slot *slot = &s->slots[slot_id];

	slot->state = SLOT_IDLE;
	slot->reply = malloc(len);
	if (!slot->reply)
		return -ENOMEM;
	memcpy(slot->reply, reply, len);
	slot->reply_len = len;
	slot->has_reply = true;
	return 0;
}

static struct handle *handle_slot(struct session *s, uint64_t fh)
{
	uint64_t index = (fh & 0xffffffffu);

	if (index == 0 || index > s->nhandles)
		return NULL;
	struct handle *h = &s->handles[index - 1];
	if (h->fd < 0 || h->gen != (uint32_t)(fh >> 32))
		return NULL;
	return h;
}

/* Makes the table hold `n` entries at least (new ones free). */
static int handles_grow(struct session *s, unsigned n)
{
	if (n > SESSION_HANDLES_MAX)
		return -EMFILE;
	if (n > s->handles_cap) {
		unsigned cap = s->handles_cap ? s->handles_cap : 16;
		while (cap < n)
			cap *= 2;
		struct handle *grown = realloc(s->handles, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->handles = grown;
		s->handles_cap = cap;
	}
	while (s->nhandles < n)
		s->handles[s->nhandles++] = (struct handle){ .fd = -1, .gen = 0 };
	return 0;
}

static void handle_fill(struct session *s, struct handle *h, int fd, uint32_t open_flags,
			bool is_dir, uint64_t dev, uint64_t ino)
{
	uint32_t acc = open_flags & DAFS_O_ACCMODE;

	h->fd = fd;
	h->open_flags = open_flags;
	h->readable = !is_dir && (acc == DAFS_O_RDONLY || acc == DAFS_O_RDWR);
	h->writable = !is_dir && (acc == DAFS_O_WRONLY || acc == DAFS_O_RDWR);
	h->is_dir = is_dir;
	h->dev = dev;
	h->ino = ino;
	h->locked = false;
	s->nopen++;
	atomic_fetch_add_explicit(&open_fds, 1, memory_order_relaxed);
}

int session_handle_add(struct session *s, int fd, uint32_t open_flags, bool is_dir,
		       uint64_t dev, uint64_t ino, uint64_t *fh)
{
	unsigned i;
	int rc;

	for (i = 0; i < s->nhandles; i++)
		if (s->handles[i].fd < 0)
			break;
	if (i == s->nhandles && (rc = handles_grow(s, i + 1)) != 0)
		return rc;
	struct handle *h = &s->handles[i];
	h->gen++;
	handle_fill(s, h, fd, open_flags, is_dir, dev, ino);
	*fh = ((uint64_t)h->gen << 32) | (i + 1);
	return 0;
}

int session_handle_place(struct session *s, int fd, uint32_t open_flags, bool is_dir,
			 uint64_t dev, uint64_t ino, uint64_t fh)
{
	uint64_t index = fh & 0xffffffffu;
	int rc;

	if (index == 0 || index > SESSION_HANDLES_MAX)
		return -EBADF;
	if ((rc = handles_grow(s, (unsigned)index)) != 0)
		return rc;
	struct handle *h = &s->handles[index - 1];
	if (h->fd >= 0)
		return -EEXIST;
	h->gen = (uint32_t)(fh >> 32);
	handle_fill(s, h, fd, open_flags, is_dir, dev, ino);
	return 0;
}

struct handle *session_handle_get(struct session *s, uint64_t fh)
{
	return handle_slot(s, fh);
}

int session_handle_close(struct session *s, uint64_t fh, struct handle *old)
{
	struct handle *h = handle_slot(s, fh);

	if (!h)
		return -EBADF;
	if (old)
		*old = *h;
	close(h->fd);
	h->fd = -1;
	s->nopen--;
	atomic_fetch_sub_explicit(&open_fds, 1, memory_order_relaxed);
	return 0;
}

int session_region_add(struct session *s, uint64_t addr, uint64_t len, uint64_t key)
{
	if (s->nregions == s->regions_cap) {
		unsigned cap = s->regions_cap ? s->regions_cap * 2 : 8;
		struct region *grown;
		if (s->nregions == SESSION_REGIONS_MAX)
			return -ENOSPC;
		grown = realloc(s->regions, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->regions = grown;
		s->regions_cap = cap;
	}
	s->regions[s->nregions++] = (struct region){ addr, len, key };
	return 0;
}

int session_region_remove(struct session *s, uint64_t addr, uint64_t len, uint64_t key)
{
	for (unsigned i = 0; i < s->nregions; i++) {
		struct region *r = &s->regions[i];
		if (r->addr == addr && r->len == len && r->key == key) {
			*r = s->regions[--s->nregions];
			return 0;
		}
	}
	return -ENOENT;
}

bool session_segment_allowed(const struct session *s, const struct dafs_seg *seg)
{
	for (unsigned i = 0; i < s->nregions; i++) {
		const struct region *r = &s->regions[i];
		if (r->key == seg->key && seg->addr >= r->addr &&
		    seg->len <= r->len && seg->addr - r->addr <= r->len - seg->len)
			return true;
	}
	return false;
}
