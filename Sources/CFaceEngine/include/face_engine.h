// The face engine: OpenCV's YuNet detector and an embedding network, behind a plain C interface.
// One engine holds its networks and is used by one thread at a time; Swift keeps a small pool of them.
// Every C++ exception is caught inside; functions return a status and write a message into `error`.
#ifndef KAODIAN_FACE_ENGINE_H
#define KAODIAN_FACE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    KD_FACE_OK = 0,
    KD_FACE_ERROR_MODEL = 1,        // a model file is missing or does not load
    KD_FACE_ERROR_NOT_IMAGE = 2,    // the bytes do not decode to an image
    KD_FACE_ERROR_INTERNAL = 3,     // OpenCV failed while working on a valid image
    KD_FACE_ERROR_ARGUMENT = 4,     // a null pointer, an empty buffer, a wrong size
};

enum {
    KD_EMBEDDER_FACENET = 0,  // TensorFlow graph, 160×160 RGB, (x − 127.5) / 128, 512 values (graph_final.pb)
    KD_EMBEDDER_SFACE = 1,    // cv::FaceRecognizerSF with its own 112×112 alignment, 128 values
};

#define KD_FACE_MAX_FACES 8
#define KD_FACE_MAX_EMBEDDING 512

typedef struct kd_face_engine kd_face_engine;

typedef struct {
    float x, y, width, height;  // in the pixels of the decoded image
    float score;                // detector confidence, 0…1
    float landmarks[10];        // right eye, left eye, nose tip, right and left mouth corner (x, y)
} kd_face_box;

typedef struct {
    int32_t image_width, image_height;
    int32_t face_count;                       // faces found, up to KD_FACE_MAX_FACES, the subject first
    kd_face_box faces[KD_FACE_MAX_FACES];
    // Of the subject's face (the first) only:
    float brightness;                         // mean grey level of the face box, 0…255
    float sharpness;                          // variance of the Laplacian of the aligned grey face crop
    int32_t embedding_length;                 // 0 when no face was found
    float embedding[KD_FACE_MAX_EMBEDDING];   // L2-normalised
    // Milliseconds spent in each step.
    float decode_ms, detect_ms, align_ms, embed_ms;
} kd_face_analysis;

/// Loads the detector (YuNet ONNX) and the embedding network. Returns NULL and fills `error` on failure.
kd_face_engine *kd_face_engine_create(
    const char *detector_path, const char *embedder_path, int32_t embedder_kind, float detection_threshold,
    int32_t detection_max_side, int32_t embed_flipped, char *error, size_t error_length);

void kd_face_engine_destroy(kd_face_engine *engine);

/// Decodes an encoded image (JPEG, PNG …), finds faces, and embeds the subject (the first face).
int32_t kd_face_analyse(
    kd_face_engine *engine, const uint8_t *bytes, size_t length, kd_face_analysis *out, char *error, size_t error_length);

/// Sets how many threads OpenCV uses inside one call (0 = OpenCV's default).
void kd_face_set_threads(int32_t threads);

#ifdef __cplusplus
}
#endif

#endif
