/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the vepoll module: events/vepoll/ in tracefs.
 *
 * Every event names its instance by registry id (the vepoll-id line of
 * the instance's fdinfo) and a watch by its fd, so that a trace can be
 * matched with what the program did. Disabled, each costs a static-key
 * branch. Documentation.rst ("Tracepoints") lists them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vepoll

#if !defined(_VEPOLL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VEPOLL_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vepoll_instance_create,
	    TP_PROTO(u32 id, unsigned int uid),
	    TP_ARGS(id, uid),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(unsigned int, uid)),
	    TP_fast_assign(__entry->id = id;
			   __entry->uid = uid;),
	    TP_printk("id=%u uid=%u", __entry->id, __entry->uid)
);

TRACE_EVENT(vepoll_instance_destroy,
	    TP_PROTO(u32 id, unsigned int nr_watches),
	    TP_ARGS(id, nr_watches),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(unsigned int, nr_watches)),
	    TP_fast_assign(__entry->id = id;
			   __entry->nr_watches = nr_watches;),
	    TP_printk("id=%u watches=%u", __entry->id, __entry->nr_watches)
);

TRACE_EVENT(vepoll_ctl,
	    TP_PROTO(u32 id, u32 op, int fd, u32 events, int result),
	    TP_ARGS(id, op, fd, events, result),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, op)
			     __field(int, fd)
			     __field(u32, events)
			     __field(int, result)),
	    TP_fast_assign(__entry->id = id;
			   __entry->op = op;
			   __entry->fd = fd;
			   __entry->events = events;
			   __entry->result = result;),
	    TP_printk("id=%u op=%s fd=%d events=0x%x result=%d", __entry->id,
		      __print_symbolic(__entry->op, { 1, "ADD" }, { 2, "DEL" },
				       { 3, "MOD" }),
		      __entry->fd, __entry->events, __entry->result)
);

TRACE_EVENT(vepoll_wakeup,
	    TP_PROTO(u32 id, int fd, u32 key, bool queued),
	    TP_ARGS(id, fd, key, queued),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(int, fd)
			     __field(u32, key)
			     __field(bool, queued)),
	    TP_fast_assign(__entry->id = id;
			   __entry->fd = fd;
			   __entry->key = key;
			   __entry->queued = queued;),
	    TP_printk("id=%u fd=%d key=0x%x queued=%d", __entry->id,
		      __entry->fd, __entry->key, __entry->queued)
);

TRACE_EVENT(vepoll_report,
	    TP_PROTO(u32 id, int fd, u32 events),
	    TP_ARGS(id, fd, events),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(int, fd)
			     __field(u32, events)),
	    TP_fast_assign(__entry->id = id;
			   __entry->fd = fd;
			   __entry->events = events;),
	    TP_printk("id=%u fd=%d events=0x%x", __entry->id, __entry->fd,
		      __entry->events)
);

TRACE_EVENT(vepoll_wait_begin,
	    TP_PROTO(u32 id, s64 timeout_ns, unsigned int maxevents),
	    TP_ARGS(id, timeout_ns, maxevents),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(s64, timeout_ns)
			     __field(unsigned int, maxevents)),
	    TP_fast_assign(__entry->id = id;
			   __entry->timeout_ns = timeout_ns;
			   __entry->maxevents = maxevents;),
	    TP_printk("id=%u timeout_ns=%lld maxevents=%u", __entry->id,
		      __entry->timeout_ns, __entry->maxevents)
);

TRACE_EVENT(vepoll_wait_end,
	    TP_PROTO(u32 id, long result),
	    TP_ARGS(id, result),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(long, result)),
	    TP_fast_assign(__entry->id = id;
			   __entry->result = result;),
	    TP_printk("id=%u result=%ld", __entry->id, __entry->result)
);

#endif /* _VEPOLL_TRACE_H */

/* Out of tree: the header is found beside the sources (Kbuild's -I). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vepoll_trace
#include <trace/define_trace.h>
