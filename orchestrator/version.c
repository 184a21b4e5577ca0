#include "version.h"

const char *
pemrotate_version(void)
{
	return PEMROTATE_VERSION;
}
