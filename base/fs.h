/*
 * base/fs.h - small file-system helpers shared by the programs and the libraries that write
 * output trees. Thread-safe (no shared state); errors are reported through errno.
 */
#ifndef BASE_FS_H
#define BASE_FS_H

/* Creates dir and any missing parents (like mkdir -p). Returns 0 when dir exists as a
 * directory afterwards, -1 otherwise with errno set (ENAMETOOLONG for paths over 4095). */
int base_fs_mkdir_p(const char *dir);

#endif
