//===- DriverPresence.h - Whether this machine has a CUDA driver -*- C++ -*-===//
//
// Tests of the no-driver paths assert on machines without libcuda.so.1 and
// skip where it is installed; they ask the dynamic loader, as the runtime
// does, rather than the runtime itself, which is what they test.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_UNITTESTS_RUNTIME_DRIVERPRESENCE_H
#define FATTN_UNITTESTS_RUNTIME_DRIVERPRESENCE_H

#include <dlfcn.h>

inline bool systemHasCudaDriver() {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return false;
  dlclose(library);
  return true;
}

#endif // FATTN_UNITTESTS_RUNTIME_DRIVERPRESENCE_H
