/* log.h — the server's log: one line per event on stderr, with a timestamp. */
#ifndef DAFS_SERVER_LOG_H
#define DAFS_SERVER_LOG_H

__attribute__((format(printf, 1, 2)))
void log_msg(const char *fmt, ...);

#endif
