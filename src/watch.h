/*
 * watch_config_files: noticing that the configuration file or a rules file changed, so the
 * daemon reloads as on SIGHUP. inotify on the directories that hold them (a file replaced
 * by rename, as editors and configuration tools do, or a Kubernetes ConfigMap's '..data'
 * symlink swapped, is seen that way; a watch on the file itself would stay on the old
 * inode). Each directory event is kept only when it names a watched file, a '..data' entry,
 * or, in a watched rules directory, a .yaml/.yml file.
 */
#ifndef SAKER_WATCH_H
#define SAKER_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watch;

/* NULL (logged) when inotify is not available. */
struct watch *watch_new(void);
void watch_free(struct watch *w);

/* Replaces what is watched: the config file (NULL: none) and the rules paths (files or
 * directories; "@..." built-in names are skipped). A path that cannot be watched is logged
 * and left out. Returns how many paths are watched. */
size_t watch_set(struct watch *w, const char *config_path, const char *const *rules_paths,
		 size_t n_rules_paths);

/* The inotify descriptor (readable when events wait). */
int watch_fd(const struct watch *w);

/* Reads what is pending; true when one of the events is about a watched file. */
bool watch_read(struct watch *w);

#endif /* SAKER_WATCH_H */
