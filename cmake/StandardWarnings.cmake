# INTERFACE target carrying the house warning set; link it PRIVATE from our own targets.
add_library(picluster_warnings INTERFACE)
target_compile_options(picluster_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
if(PICLUSTER_WERROR)
  target_compile_options(picluster_warnings INTERFACE -Werror)
endif()
