# Reference values for engagestats.models.glmm / gee from lme4::glmer and geepack::geeglm.
#
# Run from the repository root (after tests/reference/glmer/make_data.py):
#     Rscript tests/reference/glmer/reference.R
# Writes tests/reference/glmer/reference.json. Every number sits under a key naming the
# R expression that produced it; `fit` is the model named by the enclosing keys.
#
# Two glmer fits per dataset and nAGQ:
#   "glmer(formula, data, family = binomial, nAGQ = q, control = ctl)": tight optimiser
#     tolerances (both stages bobyqa, rhoend 1e-10, tolPwrss 1e-10). lme4's defaults stop
#     short of the optimum (fixed effects off by ~4e-4 relative, SEs by ~4e-3 on
#     dropout.csv with nAGQ = 1), so the strict tests use these fits.
#   "glmer(formula, data, family = binomial, nAGQ = q)": lme4's defaults, recorded so the
#     tests can show how close the default fit is.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
have_geepack <- requireNamespace("geepack", quietly = TRUE)

here <- "tests/reference/glmer"
ctl <- glmerControl(
  optimizer = c("bobyqa", "bobyqa"),
  optCtrl = list(rhoend = 1e-10, maxfun = 1e5),
  tolPwrss = 1e-10
)
formula <- dropout ~ autonomy + readiness + stage + (1 | therapist_id)
datasets <- c("dropout.csv", "dropout_wide.csv")

named <- function(x) list(names = names(x), values = unname(as.numeric(x)))

fit_info <- function(fit, data) {
  vc <- as.data.frame(VarCorr(fit))
  vc$grp <- as.character(vc$grp)
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  re <- re[1:5, ]
  used <- as.integer(rownames(model.frame(fit)))
  nd <- data[c(1, 2, nrow(data)), c("autonomy", "readiness", "stage", "therapist_id")]
  nd$therapist_id <- as.character(nd$therapist_id)
  nd <- rbind(nd, data.frame(autonomy = 0.5, readiness = -0.5, stage = "action",
                             therapist_id = "NEW_THERAPIST"))
  list(
    "nobs(fit)" = nobs(fit),
    "ngrps(fit)" = as.list(ngrps(fit)),
    "fixef(fit)" = named(fixef(fit)),
    "sqrt(diag(vcov(fit)))" = named(sqrt(diag(vcov(fit)))),
    "as.matrix(vcov(fit))" = unname(as.matrix(vcov(fit))),
    "getME(fit, 'theta')" = named(getME(fit, "theta")),
    "as.numeric(logLik(fit))" = as.numeric(logLik(fit)),
    "attr(logLik(fit), 'df')" = attr(logLik(fit), "df"),
    "AIC(fit)" = AIC(fit),
    "BIC(fit)" = BIC(fit),
    "deviance(fit)" = deviance(fit),
    "isSingular(fit)" = isSingular(fit),
    "fit@optinfo$derivs$gradient" = fit@optinfo$derivs$gradient,
    "as.data.frame(VarCorr(fit))" = list(
      group = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov, sdcor = vc$sdcor
    ),
    "as.data.frame(ranef(fit, condVar = TRUE))[1:5, ]" = list(
      grp = as.character(re$grp), condval = re$condval, condsd = re$condsd
    ),
    "rownames(model.frame(fit))[1:6] (1-based data rows)" = used[1:6],
    "unname(fitted(fit))[1:6]" = unname(fitted(fit))[1:6],
    "unname(predict(fit, type = 'link'))[1:6]" = unname(predict(fit, type = "link"))[1:6],
    "newdata" = nd,
    "predict(fit, newdata, type = 'response', allow.new.levels = TRUE)" =
      unname(predict(fit, newdata = nd, type = "response", allow.new.levels = TRUE)),
    "predict(fit, newdata, type = 'link', re.form = NA)" =
      unname(predict(fit, newdata = nd, type = "link", re.form = NA))
  )
}

gee_info <- function(data, corstr) {
  d <- data[order(data$therapist_id), ]  # geeglm needs clusters contiguous
  d <- d[complete.cases(d[c("dropout", "autonomy", "readiness", "stage")]), ]
  fit <- geepack::geeglm(dropout ~ autonomy + readiness + stage, id = therapist_id,
                         data = d, family = binomial, corstr = corstr)
  cs <- coef(summary(fit))
  list(
    call = sprintf(paste0("geeglm(dropout ~ autonomy + readiness + stage, id = therapist_id, ",
                          "data, family = binomial, corstr = '%s')"), corstr),
    "coef(fit)" = named(coef(fit)),
    "coef(summary(fit))[, 'Std.err']" = named(setNames(cs[, "Std.err"], rownames(cs))),
    "summary(fit)$corr$Estimate" = if (corstr == "independence") NULL else summary(fit)$corr$Estimate,
    "summary(fit)$dispersion$Estimate" = summary(fit)$dispersion$Estimate,
    "nobs" = nrow(d)
  )
}

out <- list(
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  geepack = if (have_geepack) as.character(packageVersion("geepack")) else NULL),
  formula = deparse(formula),
  models = list()
)
for (file in datasets) {
  data <- read.csv(file.path(here, file), stringsAsFactors = TRUE)
  entry <- list()
  for (q in c(1, 10)) {
    tight <- glmer(formula, data, family = binomial, nAGQ = q, control = ctl)
    default <- suppressWarnings(glmer(formula, data, family = binomial, nAGQ = q))
    entry[[sprintf("glmer(formula, data, family = binomial, nAGQ = %d, control = ctl)", q)]] <-
      fit_info(tight, data)
    entry[[sprintf("glmer(formula, data, family = binomial, nAGQ = %d)", q)]] <-
      fit_info(default, data)
  }
  if (have_geepack) {
    entry[["geeglm"]] <- list(
      exchangeable = gee_info(data, "exchangeable"),
      independence = gee_info(data, "independence")
    )
  }
  out$models[[file]] <- entry
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
           file.path(here, "reference.json"))
