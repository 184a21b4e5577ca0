#ifndef PEMROTATE_VERSION_H
#define PEMROTATE_VERSION_H
/* The program's version string, from CMake. */
const char *pemrotate_version(void);
#endif
