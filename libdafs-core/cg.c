/* cg.c — completion groups (dafs_cg_*): where the _async calls given a group
 * leave their finished requests, and the waits that reap them. */
#include <errno.h>
#include <stdlib.h>

#include "client.h"

int dafs_cg_create(struct dafs_session *s, struct dafs_cg **out)
{
	struct dafs_cg *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return -ENOMEM;
	cg->s = s;
	*out = cg;
	return 0;
}

int dafs_cg_destroy(struct dafs_cg *cg)
{
	if (!cg)
		return 0;
	if (dafs_cg_outstanding(cg))
		return -EBUSY;
	free(cg);
	return 0;
}

unsigned dafs_cg_outstanding(const struct dafs_cg *cg)
{
	unsigned n;

	pthread_mutex_lock(&cg->s->lock);
	n = cg->outstanding;
	pthread_mutex_unlock(&cg->s->lock);
	return n;
}

static bool reap(struct dafs_cg *cg, struct dafs_event *ev)
{
	struct dafs_req *req = cg->done_head;

	if (!req)
		return false;
	cg->done_head = req->next_done;
	if (!cg->done_head)
		cg->done_tail = NULL;
	cg->outstanding--;
	ev->user = req->user;
	ev->result = req->result;
	req_free(req);
	return true;
}

int dafs_cg_wait_n(struct dafs_cg *cg, unsigned n, struct dafs_event *evs, unsigned max,
		   int timeout_ms)
{
	struct dafs_session *s = cg->s;
	uint64_t deadline = client_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	unsigned got = 0;

	if (n > max)
		n = max;
	pthread_mutex_lock(&s->lock);
	while (got < max) {
		if (reap(cg, &evs[got])) {
			got++;
			continue;
		}
		if (got >= n || cg->outstanding == 0)
			break;
		if (timeout_ms >= 0 && client_now_ms() >= deadline)
			break;
		client_progress(s, timeout_ms < 0 ? 100 : (int)(deadline - client_now_ms()));
	}
	pthread_mutex_unlock(&s->lock);
	return (int)got;
}

int dafs_cg_wait_any(struct dafs_cg *cg, int timeout_ms, struct dafs_event *ev)
{
	if (dafs_cg_outstanding(cg) == 0)
		return -ENOENT;
	return dafs_cg_wait_n(cg, 1, ev, 1, timeout_ms);
}
