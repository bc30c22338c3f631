// The face engine behind include/face_engine.h: decode, detect (YuNet), align (five-point similarity transform),
// embed (FaceNet graph or SFace), measure brightness and sharpness. No exception leaves this file.
#include "face_engine.h"

#include <opencv2/core.hpp>
#include <opencv2/calib3d.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect/face.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

constexpr int kFacenetSide = 160;

/// The standard five-point template for a 112×112 face, scaled by 0.9 about its centre into a 160×160 crop.
std::vector<cv::Point2f> facenetTemplate() {
    const float points[5][2] = {
        {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f}, {41.5493f, 92.3655f}, {70.7299f, 92.2041f}};
    std::vector<cv::Point2f> result;
    const float scale = 0.9f * kFacenetSide / 112.0f;
    for (const auto &p : points) {
        result.emplace_back((p[0] - 56.0f) * scale + kFacenetSide / 2.0f, (p[1] - 56.0f) * scale + kFacenetSide / 2.0f);
    }
    return result;
}

void writeError(char *error, size_t length, const std::string &message) {
    if (error == nullptr || length == 0) return;
    const size_t n = std::min(length - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

double millisSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void normalise(std::vector<float> &values) {
    double sum = 0;
    for (float v : values) sum += double(v) * v;
    const double norm = std::sqrt(sum);
    if (norm > 0) {
        for (float &v : values) v = float(v / norm);
    }
}

}  // namespace

struct kd_face_engine {
    cv::Ptr<cv::FaceDetectorYN> detector;
    cv::dnn::Net facenet;
    cv::Ptr<cv::FaceRecognizerSF> sface;
    int32_t kind = KD_EMBEDDER_FACENET;
    int32_t detectionMaxSide = 640;
    bool embedFlipped = false;
    std::vector<cv::Point2f> alignTarget = facenetTemplate();
    cv::Size detectorInput;
};

extern "C" {

void kd_face_set_threads(int32_t threads) {
    try {
        cv::setNumThreads(threads > 0 ? threads : -1);
    } catch (...) {
    }
}

kd_face_engine *kd_face_engine_create(
    const char *detector_path, const char *embedder_path, int32_t embedder_kind, float detection_threshold,
    int32_t detection_max_side, int32_t embed_flipped, char *error, size_t error_length) {
    if (detector_path == nullptr || embedder_path == nullptr) {
        writeError(error, error_length, "model paths are missing");
        return nullptr;
    }
    try {
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
        auto engine = new kd_face_engine();
        engine->kind = embedder_kind;
        engine->detectionMaxSide = detection_max_side > 0 ? detection_max_side : 640;
        engine->embedFlipped = embed_flipped != 0;
        engine->detector = cv::FaceDetectorYN::create(detector_path, "", cv::Size(320, 320), detection_threshold, 0.3f, 5000);
        if (engine->detector.empty()) {
            delete engine;
            writeError(error, error_length, std::string("the face detector did not load: ") + detector_path);
            return nullptr;
        }
        if (embedder_kind == KD_EMBEDDER_SFACE) {
            engine->sface = cv::FaceRecognizerSF::create(embedder_path, "");
            if (engine->sface.empty()) {
                delete engine;
                writeError(error, error_length, std::string("the SFace model did not load: ") + embedder_path);
                return nullptr;
            }
        } else if (embedder_kind == KD_EMBEDDER_FACENET) {
            engine->facenet = cv::dnn::readNetFromTensorflow(embedder_path);
            if (engine->facenet.empty()) {
                delete engine;
                writeError(error, error_length, std::string("the embedding model did not load: ") + embedder_path);
                return nullptr;
            }
            engine->facenet.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
            engine->facenet.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        } else {
            delete engine;
            writeError(error, error_length, "unknown embedding model kind");
            return nullptr;
        }
        return engine;
    } catch (const std::exception &e) {
        writeError(error, error_length, std::string("a face model did not load: ") + e.what());
        return nullptr;
    } catch (...) {
        writeError(error, error_length, "a face model did not load");
        return nullptr;
    }
}

void kd_face_engine_destroy(kd_face_engine *engine) {
    try {
        delete engine;
    } catch (...) {
    }
}

int32_t kd_face_analyse(
    kd_face_engine *engine, const uint8_t *bytes, size_t length, kd_face_analysis *out, char *error, size_t error_length) {
    if (engine == nullptr || out == nullptr || bytes == nullptr || length == 0 || length > size_t(INT32_MAX)) {
        writeError(error, error_length, "no image");
        return KD_FACE_ERROR_ARGUMENT;
    }
    std::memset(out, 0, sizeof(*out));
    try {
        auto started = std::chrono::steady_clock::now();
        const cv::Mat encoded(1, int(length), CV_8UC1, const_cast<uint8_t *>(bytes));
        cv::Mat image = cv::imdecode(encoded, cv::IMREAD_COLOR);
        out->decode_ms = float(millisSince(started));
        if (image.empty() || image.cols < 8 || image.rows < 8) {
            writeError(error, error_length, "the data is not an image OpenCV can decode");
            return KD_FACE_ERROR_NOT_IMAGE;
        }
        out->image_width = image.cols;
        out->image_height = image.rows;

        // Detect on a copy no larger than detectionMaxSide, then map back to the full image.
        started = std::chrono::steady_clock::now();
        const int longest = std::max(image.cols, image.rows);
        const double scale = double(engine->detectionMaxSide) / longest;
        cv::Mat small = image;
        if (scale < 1.0) cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
        else if (scale > 1.0) cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_LINEAR);
        // Changing the input size reshapes the network: only do it when the picture size changes.
        if (small.size() != engine->detectorInput) {
            engine->detector->setInputSize(small.size());
            engine->detectorInput = small.size();
        }
        cv::Mat found;
        engine->detector->detect(small, found);
        out->detect_ms = float(millisSince(started));

        std::vector<cv::Mat> rows;
        for (int i = 0; i < found.rows; ++i) {
            cv::Mat row = found.row(i).clone();
            for (int c = 0; c < 14; ++c) row.at<float>(0, c) = float(row.at<float>(0, c) / scale);
            rows.push_back(row);
        }
        // The subject first: the largest face, favouring faces near the centre (a person in front of the camera or
        // in an ID photo is centred; people in the background are at the edges).
        const float cx = image.cols / 2.0f, cy = image.rows / 2.0f;
        const float half = std::sqrt(cx * cx + cy * cy);
        auto weight = [&](const cv::Mat &r) {
            const float fx = r.at<float>(0, 0) + r.at<float>(0, 2) / 2, fy = r.at<float>(0, 1) + r.at<float>(0, 3) / 2;
            const float off = std::sqrt((fx - cx) * (fx - cx) + (fy - cy) * (fy - cy)) / half;
            return r.at<float>(0, 2) * r.at<float>(0, 3) * (1.0f - 0.5f * off);
        };
        std::sort(rows.begin(), rows.end(), [&](const cv::Mat &a, const cv::Mat &b) { return weight(a) > weight(b); });
        out->face_count = int32_t(std::min<size_t>(rows.size(), KD_FACE_MAX_FACES));
        for (int i = 0; i < out->face_count; ++i) {
            const cv::Mat &row = rows[size_t(i)];
            kd_face_box &box = out->faces[i];
            box.x = row.at<float>(0, 0);
            box.y = row.at<float>(0, 1);
            box.width = row.at<float>(0, 2);
            box.height = row.at<float>(0, 3);
            for (int k = 0; k < 10; ++k) box.landmarks[k] = row.at<float>(0, 4 + k);
            box.score = row.at<float>(0, 14);
        }
        if (rows.empty()) return KD_FACE_OK;

        // The subject: brightness of its box, aligned crop, sharpness, embedding.
        const cv::Mat &face = rows.front();
        const cv::Rect boxRect = cv::Rect(
            cv::Point(int(std::floor(face.at<float>(0, 0))), int(std::floor(face.at<float>(0, 1)))),
            cv::Size(int(std::ceil(face.at<float>(0, 2))), int(std::ceil(face.at<float>(0, 3))))) & cv::Rect(0, 0, image.cols, image.rows);
        if (boxRect.area() > 0) {
            cv::Mat grey;
            cv::cvtColor(image(boxRect), grey, cv::COLOR_BGR2GRAY);
            out->brightness = float(cv::mean(grey)[0]);
        }

        started = std::chrono::steady_clock::now();
        cv::Mat aligned;
        if (engine->kind == KD_EMBEDDER_SFACE) {
            engine->sface->alignCrop(image, face, aligned);
        } else {
            std::vector<cv::Point2f> points;
            for (int k = 0; k < 5; ++k) points.emplace_back(face.at<float>(0, 4 + 2 * k), face.at<float>(0, 5 + 2 * k));
            cv::Mat transform = cv::estimateAffinePartial2D(points, engine->alignTarget, cv::noArray(), cv::LMEDS);
            if (transform.empty()) {
                // Degenerate landmarks: fall back to the detector's box, squared and resized.
                cv::Mat crop = boxRect.area() > 0 ? image(boxRect) : image;
                cv::resize(crop, aligned, cv::Size(kFacenetSide, kFacenetSide), 0, 0, cv::INTER_LINEAR);
            } else {
                cv::warpAffine(image, aligned, transform, cv::Size(kFacenetSide, kFacenetSide), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
            }
        }
        {
            cv::Mat grey, laplacian;
            cv::cvtColor(aligned, grey, cv::COLOR_BGR2GRAY);
            cv::Laplacian(grey, laplacian, CV_64F);
            cv::Scalar mean, deviation;
            cv::meanStdDev(laplacian, mean, deviation);
            out->sharpness = float(deviation[0] * deviation[0]);
        }
        out->align_ms = float(millisSince(started));

        started = std::chrono::steady_clock::now();
        std::vector<float> embedding;
        if (engine->kind == KD_EMBEDDER_SFACE) {
            cv::Mat feature;
            engine->sface->feature(aligned, feature);
            embedding.assign(feature.ptr<float>(), feature.ptr<float>() + feature.total());
            if (engine->embedFlipped) {
                cv::Mat flipped, second;
                cv::flip(aligned, flipped, 1);
                engine->sface->feature(flipped, second);
                for (size_t k = 0; k < embedding.size() && k < second.total(); ++k) embedding[k] += second.ptr<float>()[k];
            }
        } else {
            // One picture per forward pass: the FaceNet graph has a fixed batch of one.
            std::vector<cv::Mat> crops{aligned};
            if (engine->embedFlipped) {
                cv::Mat flipped;
                cv::flip(aligned, flipped, 1);
                crops.push_back(flipped);
            }
            for (const cv::Mat &crop : crops) {
                cv::Mat blob = cv::dnn::blobFromImage(
                    crop, 1.0 / 128.0, cv::Size(kFacenetSide, kFacenetSide), cv::Scalar::all(127.5), true, false);
                engine->facenet.setInput(blob);
                cv::Mat result = engine->facenet.forward();
                std::vector<float> one(result.ptr<float>(), result.ptr<float>() + result.total());
                normalise(one);
                if (embedding.empty()) embedding.assign(one.size(), 0.0f);
                for (size_t k = 0; k < one.size() && k < embedding.size(); ++k) embedding[k] += one[k];
            }
        }
        normalise(embedding);
        out->embed_ms = float(millisSince(started));
        if (embedding.empty() || embedding.size() > KD_FACE_MAX_EMBEDDING) {
            writeError(error, error_length, "the embedding model gave " + std::to_string(embedding.size()) + " values");
            return KD_FACE_ERROR_INTERNAL;
        }
        out->embedding_length = int32_t(embedding.size());
        std::copy(embedding.begin(), embedding.end(), out->embedding);
        return KD_FACE_OK;
    } catch (const std::exception &e) {
        writeError(error, error_length, std::string("face analysis failed: ") + e.what());
        return KD_FACE_ERROR_INTERNAL;
    } catch (...) {
        writeError(error, error_length, "face analysis failed");
        return KD_FACE_ERROR_INTERNAL;
    }
}

}  // extern "C"
