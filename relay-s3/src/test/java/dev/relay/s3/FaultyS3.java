package dev.relay.s3;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ServiceClientConfiguration;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;

/**
 * An S3 client that passes the sink's calls to a real one, and fails those a rule picks with S3's
 * {@code 500 InternalError} (a retryable failure), once per pick. Threadsafe.
 */
final class FaultyS3 implements S3Client {

    private final S3Client s3;
    private final BiPredicate<String, String> fail;
    private final AtomicInteger injected = new AtomicInteger();
    private final List<String> calls = new CopyOnWriteArrayList<>();

    /**
     * @param s3 the real client
     * @param fail given an operation name and a key, whether to fail this call
     */
    FaultyS3(S3Client s3, BiPredicate<String, String> fail) {
        this.s3 = s3;
        this.fail = fail;
    }

    /** @return failures injected so far */
    int injected() {
        return injected.get();
    }

    /** @return the calls seen, as {@code Operation key} */
    List<String> calls() {
        return List.copyOf(calls);
    }

    private void maybeFail(String operation, String key) {
        calls.add(operation + " " + key);
        if (fail.test(operation, key)) {
            injected.incrementAndGet();
            throw S3Exception.builder().statusCode(500).message("injected")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("InternalError").errorMessage("injected " + operation).build())
                    .build();
        }
    }

    @Override
    public HeadBucketResponse headBucket(HeadBucketRequest request) {
        return s3.headBucket(request);
    }

    @Override
    public PutObjectResponse putObject(PutObjectRequest request, RequestBody body) {
        maybeFail("PutObject", request.key());
        return s3.putObject(request, body);
    }

    @Override
    public CreateMultipartUploadResponse createMultipartUpload(CreateMultipartUploadRequest request) {
        maybeFail("CreateMultipartUpload", request.key());
        return s3.createMultipartUpload(request);
    }

    @Override
    public UploadPartResponse uploadPart(UploadPartRequest request, RequestBody body) {
        maybeFail("UploadPart", request.key());
        return s3.uploadPart(request, body);
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(CompleteMultipartUploadRequest request) {
        maybeFail("CompleteMultipartUpload", request.key());
        return s3.completeMultipartUpload(request);
    }

    @Override
    public AbortMultipartUploadResponse abortMultipartUpload(AbortMultipartUploadRequest request) {
        calls.add("AbortMultipartUpload " + request.key());
        return s3.abortMultipartUpload(request);
    }

    @Override
    public ListObjectsV2Response listObjectsV2(ListObjectsV2Request request) {
        return s3.listObjectsV2(request);
    }

    @Override
    public DeleteObjectResponse deleteObject(DeleteObjectRequest request) {
        return s3.deleteObject(request);
    }

    @Override
    public ListMultipartUploadsResponse listMultipartUploads(ListMultipartUploadsRequest request) {
        return s3.listMultipartUploads(request);
    }

    @Override
    public S3ServiceClientConfiguration serviceClientConfiguration() {
        return s3.serviceClientConfiguration();
    }

    @Override
    public String serviceName() {
        return s3.serviceName();
    }

    @Override
    public void close() {
        // the real client belongs to the test
    }
}
