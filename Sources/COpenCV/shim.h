// Empty on purpose: this system library exists so that SwiftPM reads opencv4.pc and gives the CFaceEngine
// target OpenCV's include path and libraries. Swift never imports OpenCV's C++ headers.
