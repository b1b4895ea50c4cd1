// SPDX-License-Identifier: GPL-2.0
/*
 * Device requests answered by message (OSF's device_request.defs and
 * device_reply.defs): device_read_request and its kin build the same
 * request as the io_done_queue calls, through the same dispatch queue
 * and data mover; their destination is a reply message to the reply
 * port, in MIG's format, reserved when the request is accepted (from the
 * port's pool if it is realtime and has room), so completion fills it in
 * and queues it without allocating, from any context.
 *
 * The reply right is taken from the caller's space only once the
 * request is accepted: a refused request takes nothing.  A reply whose
 * port died is discarded.  Out-of-line read data goes, as
 * device_read_async's does, into fresh memory of the requesting process;
 * the reply carries its address, and a receiver in another process gets
 * MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE instead (the memory then goes
 * from the requester when the reply does).
 */
#include <linux/blkdev.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "machio.h"

/* Byte offsets in the replies (MIG packs to 4). */
#define MACHIO_DR_NDR		24
#define MACHIO_DR_CODE		32
#define MACHIO_DR_COUNT		36
#define MACHIO_DR_DATA		40
#define MACHIO_DR_OOL		28	/* device_read_reply: body count at 24, descriptor at 28 */
#define MACHIO_DR_OOL_NDR	44
#define MACHIO_DR_OOL_CODE	52
#define MACHIO_DR_OOL_COUNT	56
#define MACHIO_DR_OOL_SIZE	60
#define MACHIO_DR_ERROR_SIZE	36	/* mig_reply_error_t: device_read_reply's RetCode */

static u32 machio_dreply_size(u32 op)
{
	switch (op) {
	case MACHIO_OP_READ:
		return MACHIO_DR_OOL_SIZE;
	case MACHIO_OP_READ_INBAND:
		return MACHIO_DR_DATA + MACHIO_IO_INBAND_MAX;
	default:
		return MACHIO_DR_DATA;
	}
}

static void machio_put32(void *msg, u32 off, u32 v)
{
	memcpy(msg + off, &v, sizeof(v));
}

static void machio_dreply_ndr(void *msg, u32 off)
{
	memset(msg + off, 0, 8);
	((u8 *)msg)[off + 4] = 1;	/* int_rep: little-endian */
}

/*
 * Fill in @req's reply and send it.  The reply keeps @req (and with it an
 * out-of-line read's memory) until it is received or destroyed.  Any
 * context.
 */
void machio_dreply_post(struct machio_req *req)
{
	struct machio_kmsg *kmsg = req->reply;
	struct machio_msg_header *h;
	void *msg = machio_kmsg_data(kmsg);
	u32 count = req->code ? 0 : req->count;

	req->reply = NULL;
	memset(msg, 0, machio_dreply_size(req->op));
	h = msg;
	switch (req->op) {
	case MACHIO_OP_READ:
		if (req->code) {
			/* MIG's RetCode: an error is the return code alone. */
			h->msgh_size = MACHIO_DR_ERROR_SIZE;
			machio_dreply_ndr(msg, MACHIO_DR_NDR);
			machio_put32(msg, MACHIO_DR_CODE, req->code);
		} else {
			struct machio_msg_ool_descriptor d = {
				.address = count && req->mm ? req->uaddr : 0,
				.deallocate = 1,
				.type = MACHIO_MSG_OOL_DESCRIPTOR,
				.size = count,
			};

			h->msgh_bits = MACHIO_MSGH_BITS_COMPLEX;
			h->msgh_size = MACHIO_DR_OOL_SIZE;
			machio_put32(msg, MACHIO_DR_NDR, 1);	/* the descriptor count */
			memcpy(msg + MACHIO_DR_OOL, &d, sizeof(d));
			machio_dreply_ndr(msg, MACHIO_DR_OOL_NDR);
			machio_put32(msg, MACHIO_DR_OOL_CODE, 0);
			machio_put32(msg, MACHIO_DR_OOL_COUNT, count);
			kmsg->ool = true;
		}
		h->msgh_id = MACHIO_DS_READ_REPLY;
		break;
	case MACHIO_OP_READ_INBAND:
		h->msgh_size = MACHIO_DR_DATA + ALIGN(count, 4);
		h->msgh_id = MACHIO_DS_READ_REPLY_INBAND;
		machio_dreply_ndr(msg, MACHIO_DR_NDR);
		machio_put32(msg, MACHIO_DR_CODE, req->code);
		machio_put32(msg, MACHIO_DR_COUNT, count);
		memcpy(msg + MACHIO_DR_DATA, req->inband, count);
		break;
	default:
		h->msgh_size = MACHIO_DR_DATA;
		h->msgh_id = req->op == MACHIO_OP_READ_OVERWRITE ? MACHIO_DS_READ_REPLY_OVERWRITE :
			     req->op == MACHIO_OP_WRITE ? MACHIO_DS_WRITE_REPLY :
							  MACHIO_DS_WRITE_REPLY_INBAND;
		machio_dreply_ndr(msg, MACHIO_DR_NDR);
		machio_put32(msg, MACHIO_DR_CODE, req->code);
		machio_put32(msg, MACHIO_DR_COUNT, count);
		break;
	}
	kmsg->size = h->msgh_size;
	kmsg->dreq = req;
	machio_kmsg_send_kernel(kmsg);
}

/*
 * A received device_read_reply's data: the receiver's if it is the
 * process that asked (the memory stays with it), else no address and
 * MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE.  Process context.
 */
s32 machio_dreply_deliver(struct machio_kmsg *kmsg)
{
	struct machio_req *req = kmsg->dreq;
	void *msg = machio_kmsg_data(kmsg);
	struct machio_msg_ool_descriptor d;

	if (!kmsg->ool || !req->mm)
		return MACHIO_MSG_SUCCESS;
	if (req->mm == current->mm) {
		req->delivered = true;
		return MACHIO_MSG_SUCCESS;
	}
	memcpy(&d, msg + MACHIO_DR_OOL, sizeof(d));
	d.address = 0;
	d.size = 0;
	memcpy(msg + MACHIO_DR_OOL, &d, sizeof(d));
	machio_put32(msg, MACHIO_DR_OOL_COUNT, 0);
	return MACHIO_RCV_BODY_ERROR | MACHIO_MSG_VM_SPACE;
}

/* A reply never sent (its request refused): its place back, its buffer freed. */
void machio_dreply_discard(struct machio_kmsg *kmsg)
{
	if (kmsg->counted)
		machio_mport_unreserve(kmsg->pool);
	machio_kmsg_destroy(kmsg);
}

/*
 * The reply's buffer, for @op's reply to @mp: from a realtime port's
 * pool while its queue has room (the place taken now), else allocated.
 */
static struct machio_kmsg *machio_dreply_reserve(struct machio_mport *mp, u32 op)
{
	u32 size = machio_dreply_size(op);
	struct machio_kmsg *kmsg = NULL;

	if (mp->rt) {
		spin_lock_irq(&mp->lock);
		kmsg = machio_kmsg_from_pool_counted(mp, size, true);
		spin_unlock_irq(&mp->lock);
	}
	return kmsg ?: machio_kmsg_alloc(size, 0, MACHIO_GFP);
}

static bool machio_dreply_op_ok(u32 op)
{
	return op == MACHIO_OP_READ || op == MACHIO_OP_READ_INBAND ||
	       op == MACHIO_OP_READ_OVERWRITE || op == MACHIO_OP_WRITE ||
	       op == MACHIO_OP_WRITE_INBAND;
}

static bool machio_dreply_type_ok(u32 type)
{
	return type >= MACHIO_MSG_TYPE_MOVE_SEND && type <= MACHIO_MSG_TYPE_MAKE_SEND_ONCE;
}

/* The reply port @a names, as @a->reply_type gives it: counted, or NULL. */
static struct machio_mport *machio_dreply_port(struct machio_space *space,
					       const struct machio_device_request *a)
{
	struct machio_mport *mp = NULL;
	struct machio_entry *e;

	spin_lock(&space->lock);
	if (!machio_right_source(space, a->reply_port, a->reply_type, &e)) {
		mp = machio_to_mport(e->port);
		machio_port_get(&mp->port);
	}
	spin_unlock(&space->lock);
	return mp;
}

/*
 * MACHIO_IOC_DEVICE_REQUEST: -EINVAL for a malformed argument, else 0
 * with @a->kr what MIG's send of the request would say: MACH_MSG_SUCCESS
 * (the outcome comes in the reply, D_* codes included),
 * MACHIO_SEND_INVALID_DEST (not a device), _INVALID_REPLY (no such
 * right), _INVALID_DATA (a buffer that cannot be read or pinned),
 * _NO_BUFFER (no memory, or past a bound).
 */
int machio_device_request(struct machio_space *space, struct machio_device_request *a)
{
	struct machio_port *devp;
	struct machio_kmsg *kmsg;
	struct machio_mport *mp;
	struct machio_entry *e;
	struct machio_req *req;
	int ret;

	if (!machio_dreply_op_ok(a->op) || !machio_dreply_type_ok(a->reply_type) ||
	    (a->mode & ~MACHIO_MODE_ALL) || a->kr || (a->flags & ~MACHIO_DEVREQ_RECEIVE) ||
	    (!(a->flags & MACHIO_DEVREQ_RECEIVE) && (a->rcv_msg || a->rcv_size)))
		return -EINVAL;
	if (machio_name_lookup(space, a->device, MACHIO_KIND_DEVICE, &devp)) {
		a->kr = MACHIO_SEND_INVALID_DEST;
		return 0;
	}
	mp = machio_dreply_port(space, a);
	if (!mp) {
		a->kr = MACHIO_SEND_INVALID_REPLY;
		goto out_dev;
	}
	a->kr = MACHIO_MSG_SUCCESS;
	kmsg = machio_dreply_reserve(mp, a->op);
	if (!kmsg) {
		a->kr = MACHIO_SEND_NO_BUFFER;
		goto out_port;
	}
	req = machio_req_new(space, machio_to_device(devp));
	if (IS_ERR(req)) {
		machio_dreply_discard(kmsg);
		a->kr = MACHIO_SEND_NO_BUFFER;
		goto out_port;
	}
	req->dest = MACHIO_DEST_MMSG;
	req->reply = kmsg;
	req->op = a->op;
	req->mode = a->mode;
	req->uaddr = a->buffer;
	req->pos = (u64)a->recnum * bdev_logical_block_size(req->dev->bdev);
	ret = 0;
	if (a->op == MACHIO_OP_READ_INBAND || a->op == MACHIO_OP_WRITE_INBAND) {
		req->inband = kzalloc(MACHIO_IO_INBAND_MAX, MACHIO_GFP);
		if (!req->inband)
			ret = -ENOMEM;
		else if (a->op == MACHIO_OP_WRITE_INBAND && a->count > 0 &&
			 a->count <= MACHIO_IO_INBAND_MAX &&
			 copy_from_user(req->inband, u64_to_user_ptr(a->buffer), a->count))
			ret = -EFAULT;
	}
	if (!ret)
		ret = machio_req_prepare_io(req, a->count);
	if (!ret) {
		/* Accepted: now the reply right, still there, goes with the reply. */
		spin_lock(&space->lock);
		if (machio_right_source(space, a->reply_port, a->reply_type, &e) ||
		    machio_to_mport(e->port) != mp) {
			ret = -ESTALE;
		} else {
			kmsg->rights[0].mp = mp;
			kmsg->rights[0].msgt = a->reply_type;
			kmsg->rights[0].right = machio_kright_take(space, e, a->reply_type);
		}
		spin_unlock(&space->lock);
	}
	if (ret) {
		machio_req_refuse(req);	/* discards the reply too */
		a->kr = ret == -EFAULT ? MACHIO_SEND_INVALID_DATA :
			ret == -ESTALE ? MACHIO_SEND_INVALID_REPLY : MACHIO_SEND_NO_BUFFER;
		goto out_port;
	}
	machio_req_issue(req);
out_port:
	machio_port_put(&mp->port);
out_dev:
	machio_port_put(devp);
	if (!a->kr && (a->flags & MACHIO_DEVREQ_RECEIVE)) {
		/* The RPC's second half: mach_msg's receive, on the reply port. */
		struct machio_msg rcv = {
			.msg = a->rcv_msg,
			.option = MACHIO_RCV_MSG,
			.rcv_size = a->rcv_size,
			.rcv_name = a->reply_port,
		};

		machio_msg(space, &rcv);
		a->kr = rcv.kr;
	}
	return 0;
}
