# Finds net-snmp (Debian: libsnmp-dev), which ships no CMake or pkg-config file.
# Defines NetSNMP::netsnmp (client library) and NetSNMP::agent (agent + mibs libraries).
find_path(NetSNMP_INCLUDE_DIR net-snmp/net-snmp-config.h)
find_library(NetSNMP_LIBRARY netsnmp)
find_library(NetSNMP_AGENT_LIBRARY netsnmpagent)
find_library(NetSNMP_MIBS_LIBRARY netsnmpmibs)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NetSNMP
  REQUIRED_VARS NetSNMP_LIBRARY NetSNMP_AGENT_LIBRARY NetSNMP_MIBS_LIBRARY NetSNMP_INCLUDE_DIR)
if(NetSNMP_FOUND AND NOT TARGET NetSNMP::netsnmp)
  add_library(NetSNMP::netsnmp UNKNOWN IMPORTED)
  set_target_properties(NetSNMP::netsnmp PROPERTIES
    IMPORTED_LOCATION "${NetSNMP_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NetSNMP_INCLUDE_DIR}")
  add_library(NetSNMP::agent INTERFACE IMPORTED)
  set_target_properties(NetSNMP::agent PROPERTIES
    INTERFACE_LINK_LIBRARIES "${NetSNMP_AGENT_LIBRARY};${NetSNMP_MIBS_LIBRARY};NetSNMP::netsnmp")
endif()
