# INTERFACE target that turns on ASan + UBSan when PICLUSTER_SANITIZE is set.
add_library(picluster_sanitizers INTERFACE)
if(PICLUSTER_SANITIZE)
  target_compile_options(picluster_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(picluster_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
