// libavformat, libavcodec and libavutil for Swift, plus the values Swift cannot import because they are
// function-like or composite macros (AVERROR(e), FFERRTAG, AV_NOPTS_VALUE). Nothing here allocates or frees.
#ifndef CLIBAV_H
#define CLIBAV_H

#include <errno.h>
#include <stdint.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <sys/prctl.h>

static inline int clibav_error_again(void) { return AVERROR(EAGAIN); }
static inline int clibav_error_eof(void) { return AVERROR_EOF; }
static inline int clibav_error_exit(void) { return AVERROR_EXIT; }
static inline int clibav_error_invalid_data(void) { return AVERROR_INVALIDDATA; }
static inline int clibav_error_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int clibav_error_protocol_not_found(void) { return AVERROR_PROTOCOL_NOT_FOUND; }
static inline int clibav_error_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int clibav_error_http_bad_request(void) { return AVERROR_HTTP_BAD_REQUEST; }
static inline int clibav_error_http_unauthorized(void) { return AVERROR_HTTP_UNAUTHORIZED; }
static inline int clibav_error_http_forbidden(void) { return AVERROR_HTTP_FORBIDDEN; }
static inline int clibav_error_http_not_found(void) { return AVERROR_HTTP_NOT_FOUND; }
static inline int clibav_error_http_other_4xx(void) { return AVERROR_HTTP_OTHER_4XX; }
static inline int clibav_error_http_server_error(void) { return AVERROR_HTTP_SERVER_ERROR; }
/// AVERROR(errnum) for a POSIX errno value (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, EIO…).
static inline int clibav_error_posix(int errnum) { return AVERROR(errnum); }
static inline int clibav_errno_connection_refused(void) { return ECONNREFUSED; }
static inline int clibav_errno_timed_out(void) { return ETIMEDOUT; }
static inline int clibav_errno_host_unreachable(void) { return EHOSTUNREACH; }
static inline int clibav_errno_network_unreachable(void) { return ENETUNREACH; }
static inline int clibav_errno_io(void) { return EIO; }

static inline int64_t clibav_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int clibav_time_base(void) { return AV_TIME_BASE; }
static inline int clibav_error_max_string_size(void) { return AV_ERROR_MAX_STRING_SIZE; }

/// The `hvc1` sample-entry tag (MKTAG('h','v','c','1')): H.265 in MP4 tagged so that browsers that can play it do.
static inline uint32_t clibav_tag_hvc1(void) { return MKTAG('h', 'v', 'c', '1'); }
/// AV_PKT_FLAG_KEY as an int, for `packet.flags & clibav_packet_flag_key()`.
static inline int clibav_packet_flag_key(void) { return AV_PKT_FLAG_KEY; }

/// Names the calling thread (at most 15 characters) where top, perf and /proc show it: the recorders' threads.
static inline void clibav_name_current_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

#endif
