#ifndef XIESHANG_CLIBPQ_SHIM_H
#define XIESHANG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
