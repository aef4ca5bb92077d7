#ifndef XIESHANG_CSQLITE_SHIM_H
#define XIESHANG_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
