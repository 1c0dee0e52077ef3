import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inServices, not } from '../../interceptors/select.js';

describe('inServices', () => {
  const exempt = inServices(['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']);
  it('matches every method of a named service and nothing else', () => {
    assert.equal(exempt('/grpc.health.v1.Health/Check'), true);
    assert.equal(exempt('/grpc.health.v1.Health/Watch'), true);
    assert.equal(exempt('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo'), true);
    assert.equal(exempt('/grpc.health.v1.HealthX/Check'), false, 'a service whose name only starts like an exempt one');
    assert.equal(exempt('/cheesefarm.v1.CheeseService/Order'), false);
    assert.equal(exempt('grpc.health.v1.Health/Check'), false, 'a path without its leading slash');
    assert.equal(exempt('/'), false);
    assert.equal(not(exempt)('/cheesefarm.v1.CheeseService/Order'), true);
  });
});
