'use strict';
module.exports = require('./jestTmp').setup;
