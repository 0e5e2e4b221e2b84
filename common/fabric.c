/* fabric.c — the only file that talks to libfabric. It owns the fabric, domain,
 * completion queue, address vector and RDM endpoint of one struct dafs_fabric,
 * their memory registrations, the translation of provider error codes to
 * -errno, and the exclusive claim on a shm server name.
 *
 * What the providers of libfabric 1.17 do, as measured (see the notes where the
 * code depends on it):
 *  - shm keeps only FI_MR_VIRT_ADDR (the application picks keys), offers no
 *    wait object on a CQ (FI_WAIT_FD gives -ENOSYS), names endpoints by strings.
 *  - tcp;ofi_rxm keeps no mr_mode bits (application keys, offsets into the
 *    region) and gives a CQ wait fd that wakes on incoming data even under
 *    manual progress.
 *  - verbs;ofi_rxm (not measurable here: no RDMA NIC) keeps
 *    FI_MR_LOCAL|FI_MR_VIRT_ADDR|FI_MR_ALLOCATED|FI_MR_PROV_KEY.
 * Nothing below depends on these facts: the code honours whatever bits and
 * wait object the provider returns.
 */
#include "fabric.h"
#include "shmreap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#define DAFS_FI_VERSION FI_VERSION(1, 17)

/* Providers report SIZE_MAX for max_msg_size (tcp, shm); a cap keeps callers'
 * length arithmetic and buffer sizing sane. */
#define DAFS_FABRIC_SIZE_CAP ((size_t)1 << 30)

/* shm names become /dev/shm file names, and the provider prefixes them with
 * "fi_shm://" inside a 256-byte buffer: keep them short and file-name safe. */
#define DAFS_SHM_NAME_MAX 200
#define DAFS_SHM_LOCK_SUFFIX ".dafs-lock"
/* The provider's own bound on an address string (SMR_NAME_MAX). */
#define DAFS_SHM_ADDR_MAX 256

/* fi_cq_read batch; callers asking for more get it over several polls. */
#define DAFS_POLL_BATCH 32
/* Completions read early, right after an shm RMA post (see
 * collect_rma_completion), waiting to be handed out by dafs_fabric_poll. */
#define DAFS_EARLY_MAX 64

struct dafs_fabric {
	struct fi_info *info;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_cq *cq;
	struct fid_av *av;
	struct fid_ep *ep;
	uint64_t mr_mode;       /* the bits the provider kept */
	uint64_t key_mask;      /* mr_key_size worth of bits, for application keys */
	int wait_fd;            /* -1 when the CQ has no fd */
	int shm_lock_fd;        /* held while a shm server owns its name, else -1 */
	bool listening;         /* bound to the URL's address (a server's public one) */
	char shm_lock_path[sizeof("/dev/shm/") + DAFS_SHM_NAME_MAX + sizeof(DAFS_SHM_LOCK_SUFFIX)];
	enum { SCHEME_SHM, SCHEME_TCP, SCHEME_VERBS } scheme;
	size_t max_msg;
	size_t max_rma;
	char prov_name[64];
	char shm_name[DAFS_SHM_NAME_MAX + 1];  /* our endpoint's name (shm) */
	struct dafs_completion early[DAFS_EARLY_MAX];  /* a ring, oldest at early_head */
	unsigned early_head, nearly;
	bool orphan_risk;       /* the CQ may hold an RMA error whose post is past */
	struct av_peer *peers;  /* what the AV holds, with how often it was inserted */
};

/* One address in the AV. An address is inserted once however often it is
 * asked for (a CONNECT from the address of a live session, say) and
 * removed when the last user removes it: shm crashed the server when the
 * same name was inserted twice and one of the two removed. */
struct av_peer {
	struct av_peer *next;
	fi_addr_t fi_addr;
	unsigned refs;
	size_t len;
	uint8_t addr[];
};

/* Names of the shm listeners this process has opened. shm 1.17 is unsafe
 * with endpoints of one process talking to each other: a closed endpoint's
 * region stays in the provider's process-wide name list after it is
 * unmapped, so mapping that name again from this process (fi_av_insert)
 * crashes; and fi_av_remove of a peer in this process corrupts the AV so
 * that a later peer crashes the progress engine. We refuse the first and
 * skip the second (leaking one AV slot). */
struct local_name {
	struct local_name *next;
	bool closed;
	char name[];
};
static struct local_name *local_shm_names;
static pthread_mutex_t local_shm_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keys for providers that leave the choice to us: the counter makes them
 * unique in the process, the pid in the high bits across processes, in case
 * a provider's bookkeeping meets several processes' keys. */
static uint64_t mr_key_counter;

/* ---- errors ---- */

/* libfabric's own codes >= 256 have no errno; map them to the nearest one. */
static int fi_err_to_errno(int fierr)
{
	if (fierr < 0)
		fierr = -fierr;
	if (fierr == 0)
		return EIO;
	if (fierr < FI_ERRNO_OFFSET)
		return fierr;
	switch (fierr) {
	case FI_ETOOSMALL:	return ENOBUFS;
	case FI_EOPBADSTATE:	return EINVAL;
	case FI_EAVAIL:		return EAGAIN;
	case FI_EBADFLAGS:	return EINVAL;
	case FI_ENOEQ:
	case FI_ENOCQ:
	case FI_ENOAV:
	case FI_EDOMAIN:	return EINVAL;
	case FI_ECRC:		return EBADMSG;
	case FI_ETRUNC:		return EMSGSIZE;
	case FI_ENOKEY:		return ENOKEY;
	case FI_EOVERRUN:	return EOVERFLOW;
	case FI_ENORX:		return ENOBUFS;
	default:		return EIO;
	}
}

static int neg_errno(ssize_t ret)
{
	if (ret >= 0)
		return 0;
	return -fi_err_to_errno((int)-ret);
}

/* ---- URLs ---- */

static int copy_field(char *dst, size_t cap, const char *src, size_t len)
{
	if (len == 0 || len >= cap)
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static bool shm_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > DAFS_SHM_NAME_MAX)
		return false;
	/* A leading '.' or '-' would make awkward file names; ':' would look
	 * like a port and collide with the provider's own "pid:uid:idx" names;
	 * our lock files' suffix would make one server's region another's lock. */
	if (len >= sizeof(DAFS_SHM_LOCK_SUFFIX) - 1 &&
	    memcmp(s + len - (sizeof(DAFS_SHM_LOCK_SUFFIX) - 1), DAFS_SHM_LOCK_SUFFIX,
		   sizeof(DAFS_SHM_LOCK_SUFFIX) - 1) == 0)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool port_ok(const char *s)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool host_ok(const char *s, size_t len, bool bracketed)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == '[' || c == ']' ||
		    c == '@' || c == '?' || c == '#')
			return false;
		/* Unbracketed colons would make "::1:80" ambiguous. */
		if (c == ':' && !bracketed)
			return false;
	}
	return true;
}

int dafs_url_parse(const char *url, struct dafs_url *out)
{
	struct dafs_url u;
	const char *sep, *rest;
	size_t slen;

	if (!url || !out)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	sep = strstr(url, "://");
	if (!sep)
		return -EINVAL;
	slen = (size_t)(sep - url);
	if (copy_field(u.scheme, sizeof(u.scheme), url, slen))
		return -EINVAL;
	rest = sep + 3;

	if (strcmp(u.scheme, "shm") == 0) {
		size_t n = strlen(rest);
		if (!shm_name_ok(rest, n) || copy_field(u.node, sizeof(u.node), rest, n))
			return -EINVAL;
	} else if (strcmp(u.scheme, "tcp") == 0 || strcmp(u.scheme, "verbs") == 0) {
		const char *host, *port;
		size_t hlen;
		bool bracketed = false;

		if (rest[0] == '[') {
			const char *close = strchr(rest, ']');
			if (!close || close[1] != ':')
				return -EINVAL;
			host = rest + 1;
			hlen = (size_t)(close - host);
			port = close + 2;
			bracketed = true;
		} else {
			const char *colon = strrchr(rest, ':');
			if (!colon)
				return -EINVAL;
			host = rest;
			hlen = (size_t)(colon - rest);
			port = colon + 1;
		}
		if (!host_ok(host, hlen, bracketed) || !port_ok(port))
			return -EINVAL;
		if (copy_field(u.node, sizeof(u.node), host, hlen) ||
		    copy_field(u.service, sizeof(u.service), port, strlen(port)))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*out = u;
	return 0;
}

/* ---- opening ---- */

static int scheme_of(const struct dafs_url *url, int *scheme, const char **prov)
{
	if (strcmp(url->scheme, "shm") == 0) {
		*scheme = SCHEME_SHM;
		*prov = "shm";
	} else if (strcmp(url->scheme, "tcp") == 0) {
		*scheme = SCHEME_TCP;
		*prov = "tcp;ofi_rxm";
	} else if (strcmp(url->scheme, "verbs") == 0) {
		*scheme = SCHEME_VERBS;
		*prov = "verbs;ofi_rxm";
	} else {
		return -EINVAL;
	}
	if (url->node[0] == '\0' || memchr(url->node, '\0', sizeof(url->node)) == NULL)
		return -EINVAL;
	if (*scheme != SCHEME_SHM &&
	    (url->service[0] == '\0' || memchr(url->service, '\0', sizeof(url->service)) == NULL))
		return -EINVAL;
	if (*scheme == SCHEME_SHM && !shm_name_ok(url->node, strlen(url->node)))
		return -EINVAL;
	return 0;
}

static struct fi_info *make_hints(int scheme, const char *prov)
{
	struct fi_info *h = fi_allocinfo();

	if (!h)
		return NULL;
	h->ep_attr->type = FI_EP_RDM;
	h->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE |
		  FI_SEND | FI_RECV;
	h->mode = FI_CONTEXT | FI_CONTEXT2;
	h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED |
				  FI_MR_PROV_KEY | FI_MR_ENDPOINT;
	h->domain_attr->control_progress = FI_PROGRESS_MANUAL;
	h->domain_attr->data_progress = FI_PROGRESS_MANUAL;
	h->domain_attr->threading = FI_THREAD_DOMAIN;
	if (scheme == SCHEME_SHM)
		h->addr_format = FI_ADDR_STR;
	h->fabric_attr->prov_name = strdup(prov);
	if (!h->fabric_attr->prov_name) {
		fi_freeinfo(h);
		return NULL;
	}
	return h;
}

/* shm 1.17 refuses a live endpoint's name with -EBUSY, but the refused
 * endpoint's close then unlinks the live owner's /dev/shm file, cutting it off
 * from new clients. So a server claims its name with flock on a side file
 * first: the lock dies with its holder, which also makes a name whose server
 * was killed reusable at once. */
static int shm_claim_name(struct dafs_fabric *f, const char *name)
{
	int n = snprintf(f->shm_lock_path, sizeof(f->shm_lock_path), "/dev/shm/%s%s", name,
			 DAFS_SHM_LOCK_SUFFIX);

	if (n < 0 || (size_t)n >= sizeof(f->shm_lock_path))
		return -EINVAL;
	/* A closing owner unlinks the lock file while holding it; whoever opened
	 * the old inode just before must notice and try the new one. */
	for (int attempt = 0; attempt < 16; attempt++) {
		struct stat a, b;
		int fd = open(f->shm_lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			return e == EWOULDBLOCK ? -EADDRINUSE : -e;
		}
		if (fstat(fd, &a) == 0 && stat(f->shm_lock_path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			f->shm_lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return -EADDRINUSE;
}

static void note_local_shm_name(const char *name, bool closed)
{
	size_t n = strlen(name) + 1;
	struct local_name *c;

	pthread_mutex_lock(&local_shm_lock);
	for (c = local_shm_names; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			break;
	if (!c) {
		c = malloc(sizeof(*c) + n);
		if (c) {
			memcpy(c->name, name, n);
			c->closed = false;
			c->next = local_shm_names;
			local_shm_names = c;
		}
	}
	/* Once closed, always tainted: the stale provider entry outlives a
	 * reopened listener of the same name. */
	if (c && closed)
		c->closed = true;
	pthread_mutex_unlock(&local_shm_lock);
}

enum { NAME_FOREIGN, NAME_LOCAL, NAME_LOCAL_CLOSED };

/* Classifies an shm address string (with or without the "fi_shm://" prefix,
 * at most `len` bytes) as another process's, or one of this process's
 * endpoints: a listener we opened, or the provider's own "pid:uid:index". */
static int shm_name_kind(const char *addr, size_t len)
{
	static const char prefix[] = "fi_shm://";
	char own[32];
	struct local_name *c;
	int kind = NAME_FOREIGN, n;

	len = strnlen(addr, len);
	if (len >= sizeof(prefix) - 1 && memcmp(addr, prefix, sizeof(prefix) - 1) == 0) {
		addr += sizeof(prefix) - 1;
		len -= sizeof(prefix) - 1;
	}
	n = snprintf(own, sizeof(own), "%d:", (int)getpid());
	if (n > 0 && len > (size_t)n && memcmp(addr, own, (size_t)n) == 0)
		return NAME_LOCAL;
	pthread_mutex_lock(&local_shm_lock);
	for (c = local_shm_names; c; c = c->next) {
		if (strlen(c->name) == len && memcmp(addr, c->name, len) == 0) {
			kind = c->closed ? NAME_LOCAL_CLOSED : NAME_LOCAL;
			break;
		}
	}
	pthread_mutex_unlock(&local_shm_lock);
	return kind;
}

static void shm_release_name(struct dafs_fabric *f)
{
	if (f->shm_lock_fd < 0)
		return;
	unlink(f->shm_lock_path);
	close(f->shm_lock_fd);
	f->shm_lock_fd = -1;
}

/* "dafs-PID-TIME-N": the time tells apart two programs of one pid (exec,
 * pid reuse), the counter two endpoints of one program. */
static void shm_client_name(char *out, size_t len)
{
	static atomic_uint counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, len, "dafs-%d-%llx-%u", (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
		 atomic_fetch_add(&counter, 1));
}

int dafs_fabric_unlink_shm_name(struct dafs_fabric *f)
{
	struct dafs_shm_client_name n;
	int rc;

	if (!f || f->scheme != SCHEME_SHM || f->shm_lock_fd >= 0 ||
	    dafs_shm_client_name_parse(f->shm_name, sizeof(f->shm_name), &n) != 0)
		return 0;
	rc = dafs_shm_client_unlink(&n);
	return rc == -ENOENT ? 0 : rc;
}

/* Over tcp, rxm shares one receive queue among a client's connections and,
 * when the endpoint is enabled, preposts 4096 buffers of 16 KiB on it: four
 * pool chunks of 1024 buffers (17 MB each), zeroed page by page, about 80 ms
 * of a new process's first DAFS access. A client has at most DAFS_SLOTS_MAX
 * (256) requests in flight, each answered by one reply, so one chunk is
 * still four times what it can use. rxm reads the depth once, when libfabric
 * initializes (the process's first fi_getinfo), from FI_OFI_RXM_MSG_RX_SIZE:
 * a tcp client sets it for that one call and removes it afterwards, so no
 * child inherits it. Not when the user has set it, and not unless the
 * process has only ever had one thread (setenv while another thread reads
 * the environment is unsafe). The server, whose queue serves all its
 * clients, and verbs (no shared queue: rxm's per-connection 128) keep rxm's
 * defaults. */
#define DAFS_TCP_CLIENT_RX_DEPTH "1024"
static const char rxm_rx_depth_var[] = "FI_OFI_RXM_MSG_RX_SIZE";
static _Atomic bool fabric_initialized;   /* a first fi_getinfo ran: libfabric read its variables */

static bool set_tcp_client_rx_depth(int scheme, bool listen)
{
	if (fabric_initialized || scheme != SCHEME_TCP || listen || !__libc_single_threaded ||
	    getenv(rxm_rx_depth_var))
		return false;
	return setenv(rxm_rx_depth_var, DAFS_TCP_CLIENT_RX_DEPTH, 0) == 0;
}

static int fabric_getinfo(struct dafs_fabric *f, const struct dafs_url *url, bool listen,
			  struct fi_info *hints)
{
	const char *node = NULL, *service = NULL;
	uint64_t flags = 0;

	if (f->scheme == SCHEME_SHM) {
		if (listen) {
			/* With node=NAME and FI_SOURCE, shm 1.17 names the endpoint
			 * "fi_shm://NAME:uid:index", which no client can predict. A
			 * src_addr without the "fi_shm://" prefix is used verbatim and
			 * becomes /dev/shm/NAME, which is what clients resolve
			 * "fi_shm://NAME" to. */
			hints->src_addr = strdup(url->node);
			if (!hints->src_addr)
				return -ENOMEM;
			hints->src_addrlen = strlen(url->node) + 1;
		} else {
			/* A client names its endpoint itself, uniquely per endpoint
			 * ever opened: the provider's own "pid:uid:index" comes back
			 * after an exec (same pid, counter from 0), and a server that
			 * saw the old endpoint keeps the stale mapping of that name. */
			hints->src_addr = strdup(f->shm_name);
			if (!hints->src_addr)
				return -ENOMEM;
			hints->src_addrlen = strlen(f->shm_name) + 1;
		}
	} else if (listen) {
		node = url->node;
		service = url->service;
		flags = FI_SOURCE;
	} else {
		/* Resolving the server as the destination makes the provider pick
		 * the local interface (and, for verbs, the device) that reaches it,
		 * with an ephemeral port. The URL's host is the server's, so it
		 * cannot be used as a source on a client machine. */
		node = url->node;
		service = url->service;
	}
	bool depth_set = set_tcp_client_rx_depth(f->scheme, listen);
	int ret = neg_errno(fi_getinfo(DAFS_FI_VERSION, node, service, flags, hints, &f->info));

	/* libfabric starts no thread in fi_getinfo: the process is still the
	 * single thread that set the variable. */
	if (depth_set)
		unsetenv(rxm_rx_depth_var);
	fabric_initialized = true;
	return ret;
}

static int open_cq(struct dafs_fabric *f)
{
	struct fi_cq_attr attr = {
		.format = FI_CQ_FORMAT_DATA,
		.wait_obj = FI_WAIT_FD,
		.size = 0,
	};
	int ret = fi_cq_open(f->domain, &attr, &f->cq, NULL);

	if (ret == 0) {
		int fd = -1;
		if (fi_control(&f->cq->fid, FI_GETWAIT, &fd) == 0 && fd >= 0) {
			f->wait_fd = fd;
			return 0;
		}
		/* An fd we cannot get is no use; reopen without the wait object so
		 * the provider does not maintain it for nothing. */
		fi_close(&f->cq->fid);
		f->cq = NULL;
	}
	attr.wait_obj = FI_WAIT_NONE;
	return neg_errno(fi_cq_open(f->domain, &attr, &f->cq, NULL));
}

/* The endpoint's queues and address vector, on f's domain; binds and
 * enables it. */
static int open_endpoint(struct dafs_fabric *f)
{
	struct fi_av_attr av_attr = { .type = FI_AV_TABLE };
	int ret = open_cq(f);

	if (ret == 0)
		ret = neg_errno(fi_av_open(f->domain, &av_attr, &f->av, NULL));
	if (ret == 0)
		ret = neg_errno(fi_endpoint(f->domain, f->info, &f->ep, NULL));
	if (ret == 0)
		ret = neg_errno(fi_ep_bind(f->ep, &f->av->fid, 0));
	if (ret == 0)
		ret = neg_errno(fi_ep_bind(f->ep, &f->cq->fid, FI_TRANSMIT | FI_RECV));
	if (ret == 0)
		ret = neg_errno(fi_enable(f->ep));
	return ret;
}

static void close_endpoint(struct dafs_fabric *f)
{
	if (f->ep)
		fi_close(&f->ep->fid);
	f->ep = NULL;
	if (f->shm_name[0])
		note_local_shm_name(f->shm_name, true);
	if (f->av)
		fi_close(&f->av->fid);
	f->av = NULL;
	while (f->peers) {
		struct av_peer *p = f->peers;
		f->peers = p->next;
		free(p);
	}
	if (f->cq)
		fi_close(&f->cq->fid);
	f->cq = NULL;
	f->wait_fd = -1;
	f->nearly = 0;
	f->orphan_risk = false;
}

int dafs_fabric_open(const struct dafs_url *url, bool listen, struct dafs_fabric **out)
{
	struct dafs_fabric *f;
	struct fi_info *hints = NULL;
	const char *prov;
	int scheme, ret;
	size_t keybits;

	if (!url || !out)
		return -EINVAL;
	*out = NULL;
	ret = scheme_of(url, &scheme, &prov);
	if (ret)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->scheme = scheme;
	f->wait_fd = -1;
	f->shm_lock_fd = -1;
	f->listening = listen;

	if (scheme == SCHEME_SHM && listen) {
		ret = shm_claim_name(f, url->node);
		if (ret)
			goto fail;
		/* Holding the claim proves no dafs server owns the name, so an
		 * existing region is a dead one's. The provider would reuse it
		 * itself unless the dead pid has since been recycled. */
		shm_unlink(url->node);
	}

	if (scheme == SCHEME_SHM && !listen)
		shm_client_name(f->shm_name, sizeof(f->shm_name));
	hints = make_hints(scheme, prov);
	if (!hints) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = fabric_getinfo(f, url, listen, hints);
	if (ret)
		goto fail;

	f->mr_mode = f->info->domain_attr->mr_mode;
	keybits = f->info->domain_attr->mr_key_size * 8;
	f->key_mask = (keybits == 0 || keybits >= 64) ? UINT64_MAX : ((uint64_t)1 << keybits) - 1;
	f->max_msg = f->info->ep_attr->max_msg_size;
	if (f->max_msg == 0 || f->max_msg > DAFS_FABRIC_SIZE_CAP)
		f->max_msg = DAFS_FABRIC_SIZE_CAP;
	f->max_rma = f->max_msg;
	snprintf(f->prov_name, sizeof(f->prov_name), "%s",
		 f->info->fabric_attr->prov_name ? f->info->fabric_attr->prov_name : prov);

	ret = neg_errno(fi_fabric(f->info->fabric_attr, &f->fabric, NULL));
	if (ret)
		goto fail;
	ret = neg_errno(fi_domain(f->fabric, f->info, &f->domain, NULL));
	if (ret)
		goto fail;
	ret = open_endpoint(f);
	if (ret) {
		/* shm says EBUSY for a name in use, tcp EADDRINUSE: one answer. */
		if (listen && ret == -EBUSY)
			ret = -EADDRINUSE;
		goto fail;
	}
	/* The region exists from fi_enable on; from then the provider holds on
	 * to its name for the rest of the process. */
	if (scheme == SCHEME_SHM) {
		if (listen)  /* length checked in scheme_of */
			memcpy(f->shm_name, url->node, strlen(url->node) + 1);
		note_local_shm_name(f->shm_name, false);
	}
	fi_freeinfo(hints);
	*out = f;
	return 0;

fail:
	fi_freeinfo(hints);
	dafs_fabric_close(f);
	return ret;
}

int dafs_fabric_renew_endpoint(struct dafs_fabric *f)
{
	char *name;
	int ret;

	if (f->listening)
		return -EINVAL;
	close_endpoint(f);
	if (f->scheme == SCHEME_SHM) {
		shm_client_name(f->shm_name, sizeof(f->shm_name));
		name = strdup(f->shm_name);
		if (!name)
			return -ENOMEM;
		free(f->info->src_addr);
		f->info->src_addr = name;
		f->info->src_addrlen = strlen(name) + 1;
	}
	ret = open_endpoint(f);
	if (ret == 0 && f->scheme == SCHEME_SHM)
		note_local_shm_name(f->shm_name, false);
	return ret;
}

void dafs_fabric_close(struct dafs_fabric *f)
{
	if (!f)
		return;
	close_endpoint(f);
	if (f->domain)
		fi_close(&f->domain->fid);
	if (f->fabric)
		fi_close(&f->fabric->fid);
	if (f->info)
		fi_freeinfo(f->info);
	/* Only after the endpoint is gone (and its /dev/shm file with it) may
	 * the next server take the name. */
	shm_release_name(f);
	free(f);
}

/* ---- addresses ---- */

int dafs_fabric_getname(struct dafs_fabric *f, void *addr, size_t *len)
{
	if (!f || !addr || !len)
		return -EINVAL;
	return neg_errno(fi_getname(&f->ep->fid, addr, len));
}

/* How many bytes of `addr` name the peer: a shm name up to its NUL, an IP
 * socket address, else the length of our own addresses. */
static size_t av_addr_len(const struct dafs_fabric *f, const void *addr)
{
	sa_family_t family;

	if (f->scheme == SCHEME_SHM)
		return strnlen(addr, DAFS_SHM_ADDR_MAX) + 1;
	memcpy(&family, addr, sizeof(family));   /* not necessarily aligned */
	if (family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return f->info->src_addrlen;
}

int dafs_fabric_av_insert(struct dafs_fabric *f, const void *addr, fi_addr_t *peer)
{
	struct av_peer *p;
	size_t len;
	int ret;

	if (!f || !addr || !peer)
		return -EINVAL;
	*peer = FI_ADDR_NOTAVAIL;
	if (f->scheme == SCHEME_SHM && shm_name_kind(addr, DAFS_SHM_ADDR_MAX) == NAME_LOCAL_CLOSED)
		return -EADDRNOTAVAIL;
	len = av_addr_len(f, addr);
	for (p = f->peers; p; p = p->next) {
		if (p->len == len && memcmp(p->addr, addr, len) == 0) {
			p->refs++;
			*peer = p->fi_addr;
			return 0;
		}
	}
	ret = fi_av_insert(f->av, addr, 1, peer, 0, NULL);
	if (ret != 1 || *peer == FI_ADDR_NOTAVAIL)
		return ret < 0 ? neg_errno(ret) : -EINVAL;
	/* Without memory to count it the address is merely not shared:
	 * removal then takes it out at once, as before counting. */
	p = malloc(sizeof(*p) + len);
	if (p) {
		p->fi_addr = *peer;
		p->refs = 1;
		p->len = len;
		memcpy(p->addr, addr, len);
		p->next = f->peers;
		f->peers = p;
	}
	return 0;
}

int dafs_fabric_av_insert_url(struct dafs_fabric *f, const struct dafs_url *url, fi_addr_t *peer)
{
	struct fi_info *hints, *info = NULL;
	const char *prov;
	int scheme, ret;

	if (!f || !url || !peer)
		return -EINVAL;
	ret = scheme_of(url, &scheme, &prov);
	if (ret)
		return ret;
	if (scheme != (int)f->scheme)
		return -EINVAL;
	hints = make_hints(scheme, prov);
	if (!hints)
		return -ENOMEM;
	ret = neg_errno(fi_getinfo(DAFS_FI_VERSION, url->node,
				   scheme == SCHEME_SHM ? NULL : url->service, 0, hints, &info));
	fi_freeinfo(hints);
	if (ret)
		return ret;
	if (!info->dest_addr || info->addr_format != f->info->addr_format)
		ret = -EINVAL;
	else
		ret = dafs_fabric_av_insert(f, info->dest_addr, peer);
	fi_freeinfo(info);
	return ret;
}

/* rxm keeps the removed peer's connection open (FI_AV_REMOVE_CLEANUP is off by
 * default). We leave it so: with it on, a server that removes a peer as soon
 * as its reply's send completes cuts the reply off in flight. The price: the
 * same address inserted again (a restarted peer) may reuse the dead
 * connection, so talk to a restarted peer through a fresh endpoint. */
int dafs_fabric_av_remove(struct dafs_fabric *f, fi_addr_t peer)
{
	if (!f || peer == FI_ADDR_NOTAVAIL)
		return -EINVAL;
	for (struct av_peer **pp = &f->peers; *pp; pp = &(*pp)->next) {
		struct av_peer *p = *pp;
		if (p->fi_addr != peer)
			continue;
		if (--p->refs)
			return 0;     /* another user still talks to it */
		*pp = p->next;
		free(p);
		break;
	}
	if (f->scheme == SCHEME_SHM) {
		char name[DAFS_SHM_ADDR_MAX + 1];
		size_t len = DAFS_SHM_ADDR_MAX;
		int ret;

		memset(name, 0, sizeof(name));
		ret = neg_errno(fi_av_lookup(f->av, peer, name, &len));
		if (ret)
			return ret;
		if (shm_name_kind(name, DAFS_SHM_ADDR_MAX) != NAME_FOREIGN)
			return 0;
	}
	return neg_errno(fi_av_remove(f->av, &peer, 1, 0));
}

/* ---- memory ---- */

static uint64_t next_app_key(const struct dafs_fabric *f)
{
	uint64_t n = __atomic_add_fetch(&mr_key_counter, 1, __ATOMIC_RELAXED);
	uint64_t pid = (uint64_t)(uint32_t)getpid();

	if (f->key_mask == UINT64_MAX)
		return (pid << 32) | (n & 0xffffffffu);
	/* Narrow keys: spread the pid so it still separates processes mostly. */
	return ((pid * 0x9e3779b97f4a7c15ull) ^ n) & f->key_mask;
}

int dafs_fabric_mr_reg(struct dafs_fabric *f, void *buf, size_t len, unsigned access,
		       struct dafs_mr *out)
{
	struct fid_mr *mr = NULL;
	uint64_t acc = 0, key = 0;
	int ret;

	if (!f || !buf || !len || !out || !access ||
	    (access & ~(unsigned)(DAFS_MR_LOCAL | DAFS_MR_REMOTE_READ | DAFS_MR_REMOTE_WRITE)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (access & DAFS_MR_LOCAL)
		acc |= FI_SEND | FI_RECV | FI_READ | FI_WRITE;
	if (access & DAFS_MR_REMOTE_READ)
		acc |= FI_REMOTE_READ;
	if (access & DAFS_MR_REMOTE_WRITE)
		acc |= FI_REMOTE_WRITE;
	if (!(f->mr_mode & FI_MR_PROV_KEY))
		key = next_app_key(f);

	ret = neg_errno(fi_mr_reg(f->domain, buf, len, acc, 0, key, 0, &mr, NULL));
	if (ret)
		return ret;
	if (f->mr_mode & FI_MR_ENDPOINT) {
		ret = neg_errno(fi_mr_bind(mr, &f->ep->fid, 0));
		if (!ret)
			ret = neg_errno(fi_mr_enable(mr));
		if (ret) {
			fi_close(&mr->fid);
			return ret;
		}
	}
	out->base = buf;
	out->len = len;
	out->desc = (f->mr_mode & FI_MR_LOCAL) ? fi_mr_desc(mr) : NULL;
	out->key = fi_mr_key(mr);
	if (out->key == FI_KEY_NOTAVAIL) {
		fi_close(&mr->fid);
		memset(out, 0, sizeof(*out));
		return -EIO;
	}
	out->remote_base = (f->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)buf : 0;
	out->mr = mr;
	return 0;
}

int dafs_fabric_mr_dereg(struct dafs_mr *mr)
{
	int ret;

	if (!mr || !mr->mr)
		return -EINVAL;
	/* On failure (the provider still uses it) keep the handle for a retry. */
	ret = neg_errno(fi_close(&mr->mr->fid));
	if (ret == 0)
		mr->mr = NULL;
	return ret;
}

/* ---- completions ---- */

static enum dafs_completion_kind kind_of(uint64_t flags)
{
	if (flags & FI_RECV)
		return DAFS_CQ_RECV;
	if (flags & FI_READ)
		return DAFS_CQ_RMA_READ;
	if (flags & FI_WRITE)
		return DAFS_CQ_RMA_WRITE;
	/* FI_SEND, and error entries whose provider left the flags empty. */
	return DAFS_CQ_SEND;
}

static struct dafs_fabric_ctx *ctx_of(void *op_context)
{
	/* The fi_context2 is the first member, so the pointer handed to the
	 * provider is the dafs_fabric_ctx itself. */
	return (struct dafs_fabric_ctx *)op_context;
}

/* Reads up to `max` (at most DAFS_POLL_BATCH) completions from the CQ. An
 * error entry without a context is given *orphan, which is then used up (see
 * collect_rma_completion); with orphan NULL, or *orphan NULL, it keeps none.
 * Returns how many, or -errno. */
static int read_cq(struct dafs_fabric *f, struct dafs_completion *out, int max,
		   struct dafs_fabric_ctx **orphan)
{
	struct fi_cq_data_entry ent[DAFS_POLL_BATCH];
	ssize_t n = fi_cq_read(f->cq, ent, max < DAFS_POLL_BATCH ? (size_t)max : DAFS_POLL_BATCH);

	if (n == -FI_EAGAIN)
		return 0;
	if (n == -FI_EAVAIL) {
		struct fi_cq_err_entry err;

		memset(&err, 0, sizeof(err));
		n = fi_cq_readerr(f->cq, &err, 0);
		if (n == -FI_EAGAIN)
			return 0;
		if (n < 0)
			return neg_errno(n);
		out[0].ctx = ctx_of(err.op_context);
		if (!out[0].ctx && orphan) {
			out[0].ctx = *orphan;
			*orphan = NULL;
		}
		out[0].kind = kind_of(err.flags);
		out[0].status = -fi_err_to_errno(err.err);
		out[0].len = err.len;
		return 1;
	}
	if (n < 0)
		return neg_errno(n);
	for (ssize_t i = 0; i < n; i++) {
		out[i].ctx = ctx_of(ent[i].op_context);
		out[i].kind = kind_of(ent[i].flags);
		out[i].status = 0;
		out[i].len = ent[i].len;
	}
	return (int)n;
}

/* shm (1.17) performs an RMA inside the post, by process_vm_writev/readv,
 * and when that fails it reports the failure as an error completion with NO
 * context, written to the CQ during the post: nobody could tell which
 * transfer failed, and its owner would wait for its completion forever. So
 * after every shm RMA post the CQ is read at once into `early` (handed out
 * first by the next polls, in order), and a context-less error found there is
 * this post's: every earlier post read the CQ until it was empty, so no older
 * orphan can be in it, unless `early` filled up first (orphan_risk, cleared
 * once a read finds the CQ empty). Other providers give RMA errors their
 * context. Returns `rc`. */
static int collect_rma_completion(struct dafs_fabric *f, struct dafs_fabric_ctx *ctx, int rc)
{
	struct dafs_fabric_ctx *orphan = f->orphan_risk ? NULL : ctx;

	if (rc != 0 || f->scheme != SCHEME_SHM)
		return rc;
	f->orphan_risk = true;
	while (f->nearly < DAFS_EARLY_MAX) {
		unsigned tail = (f->early_head + f->nearly) % DAFS_EARLY_MAX;
		/* The free part of the ring that follows its tail without wrapping. */
		int room = (int)(tail < f->early_head ? f->early_head - tail : DAFS_EARLY_MAX - tail);
		int n = read_cq(f, &f->early[tail], room, &orphan);

		if (n == 0)
			f->orphan_risk = false;
		if (n <= 0)
			break;   /* an error here is the next poll's to report */
		f->nearly += (unsigned)n;
	}
	return rc;
}

int dafs_fabric_poll(struct dafs_fabric *f, struct dafs_completion *out, int max)
{
	int n = 0;

	if (!f || !out || max <= 0)
		return -EINVAL;
	if (!f->nearly) {
		n = read_cq(f, out, max, NULL);
		if (n == 0)
			f->orphan_risk = false;
		return n;
	}
	while (f->nearly && n < max) {
		out[n++] = f->early[f->early_head];
		f->early_head = (f->early_head + 1) % DAFS_EARLY_MAX;
		f->nearly--;
	}
	return n;
}

/* ---- operations ---- */

static int post_result(ssize_t ret)
{
	if (ret == -FI_EAGAIN)
		return -EAGAIN;
	return neg_errno(ret);
}

int dafs_fabric_post_recv(struct dafs_fabric *f, void *buf, size_t len, void *desc,
			  struct dafs_fabric_ctx *ctx)
{
	if (!f || !ctx || (!buf && len))
		return -EINVAL;
	return post_result(fi_recv(f->ep, buf, len, desc, FI_ADDR_UNSPEC, &ctx->fi));
}

int dafs_fabric_send(struct dafs_fabric *f, fi_addr_t peer, const void *buf, size_t len,
		     void *desc, struct dafs_fabric_ctx *ctx)
{
	if (!f || !ctx || (!buf && len) || peer == FI_ADDR_NOTAVAIL)
		return -EINVAL;
	if (len > f->max_msg)
		return -EMSGSIZE;
	return post_result(fi_send(f->ep, buf, len, desc, peer, &ctx->fi));
}

int dafs_fabric_rma_read(struct dafs_fabric *f, fi_addr_t peer, void *local, size_t len,
			 void *desc, uint64_t raddr, uint64_t rkey, struct dafs_fabric_ctx *ctx)
{
	/* rxm indexes its tables with the address unchecked: a failed
	 * av_insert's FI_ADDR_NOTAVAIL would crash it. */
	if (!f || !ctx || !local || !len || peer == FI_ADDR_NOTAVAIL)
		return -EINVAL;
	if (len > f->max_rma)
		return -EMSGSIZE;
	return collect_rma_completion(f, ctx, post_result(fi_read(f->ep, local, len, desc, peer,
								  raddr, rkey, &ctx->fi)));
}

int dafs_fabric_rma_write(struct dafs_fabric *f, fi_addr_t peer, const void *local, size_t len,
			  void *desc, uint64_t raddr, uint64_t rkey, struct dafs_fabric_ctx *ctx)
{
	/* rxm indexes its tables with the address unchecked: a failed
	 * av_insert's FI_ADDR_NOTAVAIL would crash it. */
	if (!f || !ctx || !local || !len || peer == FI_ADDR_NOTAVAIL)
		return -EINVAL;
	if (len > f->max_rma)
		return -EMSGSIZE;
	return collect_rma_completion(f, ctx, post_result(fi_write(f->ep, local, len, desc, peer,
								   raddr, rkey, &ctx->fi)));
}

int dafs_fabric_wait_fd(struct dafs_fabric *f)
{
	return f ? f->wait_fd : -1;
}

int dafs_fabric_trywait(struct dafs_fabric *f)
{
	struct fid *fids[1];
	int ret;

	if (!f)
		return -EINVAL;
	if (f->wait_fd < 0)
		return -EAGAIN;
	fids[0] = &f->cq->fid;
	ret = fi_trywait(f->fabric, fids, 1);
	if (ret == -FI_EAGAIN)
		return -EAGAIN;
	return neg_errno(ret);
}

int dafs_fabric_wait(struct dafs_fabric *f, int timeout_ms)
{
	int ret;

	if (!f)
		return -EINVAL;
	if (timeout_ms == 0)
		return 0;
	if (f->wait_fd < 0) {
		/* No fd to block on: a short nap bounds both latency and spin. */
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };
		nanosleep(&ts, NULL);
		return 0;
	}
	ret = dafs_fabric_trywait(f);
	if (ret == -EAGAIN)
		return 0;
	if (ret)
		return ret;
	{
		struct pollfd p = { .fd = f->wait_fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

size_t dafs_fabric_max_msg(const struct dafs_fabric *f)
{
	return f ? f->max_msg : 0;
}

size_t dafs_fabric_max_rma(const struct dafs_fabric *f)
{
	return f ? f->max_rma : 0;
}

const char *dafs_fabric_provider(const struct dafs_fabric *f)
{
	return f ? f->prov_name : "";
}

bool dafs_fabric_mr_pins(const struct dafs_fabric *f)
{
	/* shm moves data with process_vm_readv/writev and tcp with socket
	 * copies, both by virtual address at the time of the transfer: their
	 * fi_mr_reg (libfabric 1.17's util MR map) is bookkeeping of keys and
	 * ranges. verbs, and any provider not known here, hand the NIC the
	 * physical pages behind the range as they were when it was registered. */
	const char *p = f ? f->prov_name : "";

	return strcmp(p, "shm") != 0 && strncmp(p, "tcp", 3) != 0;
}
