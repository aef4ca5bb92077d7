#ifndef XIESHANG_CSODIUM_SHIM_H
#define XIESHANG_CSODIUM_SHIM_H
#include <sodium.h>
#endif
