# PICLUSTER_VERSION_FULL: the version `picluster --version` prints and the Debian packages carry.
# The project version when the tree is exactly at tag v<version>; otherwise the project version
# followed by the git description, e.g. 0.1.0+git412.ge31cd38 (commits since the tag, or since
# the root when there is no tag, and the commit), with ".dirty" for uncommitted changes. Debian
# orders these correctly: 0.1.0 < 0.1.0+git1.g... < 0.1.0+git2.g...
# Computed at configure time (scripts/package.sh always configures afresh).
set(PICLUSTER_VERSION_FULL "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" describe --tags --exact-match "v${PROJECT_VERSION}"
                  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" RESULT_VARIABLE _at_tag
                  OUTPUT_QUIET ERROR_QUIET)
  if(NOT _at_tag EQUAL 0)
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-list --count HEAD
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE _count
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    execute_process(COMMAND "${GIT_EXECUTABLE}" describe --always --dirty=.dirty --abbrev=7
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE _describe
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_describe MATCHES "^([0-9a-f]+)(\\.dirty)?$")
      set(PICLUSTER_VERSION_FULL "${PROJECT_VERSION}+git${_count}.g${_describe}")
    elseif(_describe MATCHES "-([0-9]+)-g([0-9a-f]+)(\\.dirty)?$")
      set(PICLUSTER_VERSION_FULL
          "${PROJECT_VERSION}+git${CMAKE_MATCH_1}.g${CMAKE_MATCH_2}${CMAKE_MATCH_3}")
    endif()
  endif()
endif()
