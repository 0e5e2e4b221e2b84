/* xattr.c — named attributes (extended attributes): get, set, list and
 * remove, by path (following a final symlink or not) or on an open file.
 * One helper builds every request; the checks getxattr(2) and friends make
 * before reaching a file system are made here, with their errnos, so that a
 * caller sees what it would see locally and the wire carries only what the
 * decoder accepts. */
#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#include "client.h"

/* The largest SETXATTR request by path: header, compound and op framing,
 * then the op's fields (fh, path, flags, name, value with their lengths). */
static size_t setxattr_frame_len(size_t path_len, size_t name_len, size_t value_len)
{
	return DAFS_HDR_SIZE + 4 + 8 + 8 + (4 + path_len + 1) + 4 + (4 + name_len + 1) +
	       4 + value_len;
}

static ssize_t finish_xattr_get(struct dafs_req *req, struct dafs_reply *rep)
{
	const struct dafs_res_xattr *x;
	int rc;

	if (!rep)
		return req->result;
	rc = client_errno_of(rep, 0);
	if (rc)
		return rc;
	x = &rep->res[0].r.xattr;
	if (req->finish_arg == 0)
		return x->size;            /* a size query */
	/* The server asked the kernel with our size: a value that came back
	 * must fit it, and must have come whole. */
	if (x->size > req->finish_arg || x->value_len != x->size)
		return -EPROTO;
	if (x->size)
		memcpy(req->out.xattr, x->value, x->size);
	return x->size;
}

/* What every form shares. name NULL for LISTXATTR; size is the caller's room
 * (GET, LIST) or the value's length (SET). */
static int xattr_async(struct dafs_session *s, uint16_t opcode, uint64_t fh, const char *path,
		       int at_flags, const char *name, void *buf, const void *value, size_t size,
		       int set_flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	struct dafs_op op = { .opcode = opcode, .a.xattr = {
		.fh = fh, .path = path, .name = name,
		.flags = at_flags & AT_SYMLINK_NOFOLLOW ? DAFS_L_NOFOLLOW : 0 } };
	size_t name_len = name ? strlen(name) : 0;

	if (at_flags & ~AT_SYMLINK_NOFOLLOW)
		return -EINVAL;
	/* As the kernel: an empty or over-long name is ERANGE, unknown set
	 * flags EINVAL, a value over XATTR_SIZE_MAX E2BIG; a larger buffer
	 * than any value or list can fill is as good as the largest. */
	if (name && (name_len == 0 || name_len > DAFS_XATTR_NAME_MAX))
		return -ERANGE;
	switch (opcode) {
	case DAFS_OP_GETXATTR:
	case DAFS_OP_LISTXATTR:
		if (size && !buf)
			return -EFAULT;
		if (size > DAFS_XATTR_SIZE_MAX)
			size = DAFS_XATTR_SIZE_MAX;
		op.a.xattr.size = (uint32_t)size;
		return client_submit_one(s, &op, finish_xattr_get, (union req_out){ .xattr = buf },
					 size, cg, user, req_out);
	case DAFS_OP_SETXATTR:
		if (set_flags & ~(XATTR_CREATE | XATTR_REPLACE))
			return -EINVAL;
		if (size > DAFS_XATTR_SIZE_MAX)
			return -E2BIG;
		if (size && !value)
			return -EFAULT;
		/* The by-path limit dafs.h documents. */
		if (setxattr_frame_len(strlen(path), name_len, size) > DAFS_MSG_MAX)
			return -E2BIG;
		op.a.xattr.flags |= (set_flags & XATTR_CREATE ? DAFS_XATTR_CREATE : 0) |
				    (set_flags & XATTR_REPLACE ? DAFS_XATTR_REPLACE : 0);
		op.a.xattr.value = value;
		op.a.xattr.value_len = (uint32_t)size;
		break;
	}
	return client_submit_one(s, &op, client_finish_status, REQ_OUT_NONE, 0, cg, user, req_out);
}

/* By path: "" is the export root, as dafs_stat has it. */
static const char *xpath(const char *path)
{
	return path[0] ? path : "/";
}

int dafs_getxattr_async(struct dafs_session *s, const char *path, const char *name, void *value,
			size_t size, int flags, struct dafs_cg *cg, void *user,
			struct dafs_req **req_out)
{
	return xattr_async(s, DAFS_OP_GETXATTR, DAFS_FH_ROOT, xpath(path), flags, name, value,
			   NULL, size, 0, cg, user, req_out);
}

ssize_t dafs_getxattr(struct dafs_session *s, const char *path, const char *name, void *value,
		      size_t size, int flags)
{
	return CLIENT_SYNC(dafs_getxattr_async, s, path, name, value, size, flags);
}

int dafs_setxattr_async(struct dafs_session *s, const char *path, const char *name,
			const void *value, size_t size, int xflags, int flags,
			struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(s, DAFS_OP_SETXATTR, DAFS_FH_ROOT, xpath(path), flags, name, NULL,
			   value, size, xflags, cg, user, req_out);
}

int dafs_setxattr(struct dafs_session *s, const char *path, const char *name, const void *value,
		  size_t size, int xflags, int flags)
{
	return (int)CLIENT_SYNC(dafs_setxattr_async, s, path, name, value, size, xflags, flags);
}

int dafs_listxattr_async(struct dafs_session *s, const char *path, char *list, size_t size,
			 int flags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(s, DAFS_OP_LISTXATTR, DAFS_FH_ROOT, xpath(path), flags, NULL, list,
			   NULL, size, 0, cg, user, req_out);
}

ssize_t dafs_listxattr(struct dafs_session *s, const char *path, char *list, size_t size,
		       int flags)
{
	return CLIENT_SYNC(dafs_listxattr_async, s, path, list, size, flags);
}

int dafs_removexattr_async(struct dafs_session *s, const char *path, const char *name, int flags,
			   struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(s, DAFS_OP_REMOVEXATTR, DAFS_FH_ROOT, xpath(path), flags, name, NULL,
			   NULL, 0, 0, cg, user, req_out);
}

int dafs_removexattr(struct dafs_session *s, const char *path, const char *name, int flags)
{
	return (int)CLIENT_SYNC(dafs_removexattr_async, s, path, name, flags);
}

/* On an open file: its handle, path "". */

int dafs_fgetxattr_async(struct dafs_file *f, const char *name, void *value, size_t size,
			 struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(f->s, DAFS_OP_GETXATTR, f->fh, "", 0, name, value, NULL, size, 0,
			   cg, user, req_out);
}

ssize_t dafs_fgetxattr(struct dafs_file *f, const char *name, void *value, size_t size)
{
	return CLIENT_SYNC(dafs_fgetxattr_async, f, name, value, size);
}

int dafs_fsetxattr_async(struct dafs_file *f, const char *name, const void *value, size_t size,
			 int xflags, struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(f->s, DAFS_OP_SETXATTR, f->fh, "", 0, name, NULL, value, size, xflags,
			   cg, user, req_out);
}

int dafs_fsetxattr(struct dafs_file *f, const char *name, const void *value, size_t size,
		   int xflags)
{
	return (int)CLIENT_SYNC(dafs_fsetxattr_async, f, name, value, size, xflags);
}

int dafs_flistxattr_async(struct dafs_file *f, char *list, size_t size,
			  struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(f->s, DAFS_OP_LISTXATTR, f->fh, "", 0, NULL, list, NULL, size, 0,
			   cg, user, req_out);
}

ssize_t dafs_flistxattr(struct dafs_file *f, char *list, size_t size)
{
	return CLIENT_SYNC(dafs_flistxattr_async, f, list, size);
}

int dafs_fremovexattr_async(struct dafs_file *f, const char *name,
			    struct dafs_cg *cg, void *user, struct dafs_req **req_out)
{
	return xattr_async(f->s, DAFS_OP_REMOVEXATTR, f->fh, "", 0, name, NULL, NULL, 0, 0,
			   cg, user, req_out);
}

int dafs_fremovexattr(struct dafs_file *f, const char *name)
{
	return (int)CLIENT_SYNC(dafs_fremovexattr_async, f, name);
}
