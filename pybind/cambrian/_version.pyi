# The build writes _version.py from CMakeLists.txt's project() line.
__version__: str
