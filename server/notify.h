/* notify.h — readiness and shutdown for a service manager: systemd's
 * sd_notify protocol (libsystemd), for the unit's Type=notify. Without
 * $NOTIFY_SOCKET (not started by systemd) each call does nothing. */
#ifndef DAFS_SERVER_NOTIFY_H
#define DAFS_SERVER_NOTIFY_H

/* Every worker listens: "READY=1" with a STATUS line saying what is served.
 * Returns >0 when sent, 0 without a service manager, or a negative errno. */
int notify_ready(const char *export_dir, const char *listen_url);

/* A stop was asked for and the workers are finishing: "STOPPING=1". */
int notify_stopping(void);

#endif
