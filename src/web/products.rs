//! 商品 under 知识库: the product list, one product's form (attributes, related
//! products), deletion, and the CSV import/export.

use super::extract::{CsrfForm, CsrfHeader, Require, Trainers};
use super::kb::{Empty, attachment, import_report, read_upload};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::bot::kbfile::{self, lines};
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::{Invalid, Price, Product};
use crate::store::prelude::*;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "kb/products.html")]
pub struct ProductsPage {
    pub ctx: PageCtx,
    pub products: Vec<Product>,
    pub q: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProductQuery {
    #[serde(default)]
    pub q: String,
}

/// GET /kb/products
pub async fn list(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    q: web::Query<ProductQuery>,
) -> Result<ProductsPage, AppError> {
    let needle = q.q.trim().to_lowercase();
    let products = state
        .desk
        .list_products()?
        .into_iter()
        .filter(|p| {
            needle.is_empty()
                || p.sku.to_lowercase().contains(&needle)
                || p.name.to_lowercase().contains(&needle)
                || p.aliases.iter().any(|a| a.to_lowercase().contains(&needle))
        })
        .collect();
    Ok(ProductsPage {
        ctx,
        products,
        q: q.q.clone(),
    })
}

/// The product form's fields, as text.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProductForm {
    pub sku: String,
    pub name: String,
    /// One per line.
    pub aliases: String,
    pub price: String,
    pub final_price: String,
    pub stock: String,
    pub link: String,
    pub image: String,
    /// SKUs, one per line.
    pub related: String,
    /// `name=value`, one per line.
    pub attributes: String,
    /// Set when editing a stored product (its SKU cannot change).
    pub existing: String,
}

impl ProductForm {
    fn from_product(p: &Product) -> ProductForm {
        let price = |p: Option<Price>| p.map(|p| p.to_string()).unwrap_or_default();
        ProductForm {
            sku: p.sku.clone(),
            name: p.name.clone(),
            aliases: p.aliases.join("\n"),
            price: price(p.price),
            final_price: price(p.final_price),
            stock: p.stock.map(|s| s.to_string()).unwrap_or_default(),
            link: p.link.clone().unwrap_or_default(),
            image: p.image.clone().unwrap_or_default(),
            related: p.related.join("\n"),
            attributes: p
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            existing: p.sku.clone(),
        }
    }

    fn to_product(&self, known: &[String]) -> Result<Product, Invalid> {
        let mut inv = Invalid::default();
        let mut p = Product::new(self.sku.trim(), self.name.trim());
        p.aliases = lines(&self.aliases);
        let mut price = |field: &'static str, s: &str| match s.trim() {
            "" => None,
            t => Price::parse(t).or_else(|| {
                inv.add(field, format!("“{t}”不是价格，例如 59.9"));
                None
            }),
        };
        p.price = price("price", &self.price);
        p.final_price = price("final_price", &self.final_price);
        p.stock = match self.stock.trim() {
            "" => None,
            s => s.parse().map(Some).unwrap_or_else(|_| {
                inv.add("stock", "库存应为整数");
                None
            }),
        };
        p.link = Some(self.link.trim().to_string()).filter(|l| !l.is_empty());
        p.image = Some(self.image.trim().to_string()).filter(|l| !l.is_empty());
        p.related = kbfile::skus(&self.related);
        let unknown: Vec<&str> = p
            .related
            .iter()
            .filter(|r| !known.contains(r) && **r != p.sku)
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            inv.add("related", format!("没有这些商品：{}", unknown.join("、")));
        }
        for l in lines(&self.attributes) {
            match l.split_once(['=', '＝', ':', '：']) {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    p.attributes
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
                _ => inv.add("attributes", format!("“{l}”应写成 名称=值，例如 材质=纯棉")),
            }
        }
        if let Err(more) = p.validate() {
            inv.0.extend(more.0);
        }
        inv.into_result().map(|_| p)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/product.html")]
pub struct ProductPage {
    pub ctx: PageCtx,
    pub new: bool,
    pub form: ProductForm,
    pub errors: Invalid,
}

/// GET /kb/products/new
pub async fn new_form(_me: Require<Trainers>, ctx: PageCtx) -> ProductPage {
    ProductPage {
        ctx,
        new: true,
        form: ProductForm::default(),
        errors: Invalid::default(),
    }
}

/// GET /kb/products/{sku}
pub async fn show(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    sku: web::Path<String>,
) -> Result<ProductPage, AppError> {
    let p = state
        .desk
        .store()
        .read()?
        .get_product(&sku)?
        .ok_or(AppError::NotFound)?;
    Ok(ProductPage {
        ctx,
        new: false,
        form: ProductForm::from_product(&p),
        errors: Invalid::default(),
    })
}

/// POST /kb/products — creates or updates (a new SKU that exists is refused).
pub async fn save(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> Result<HttpResponse, AppError> {
    let products = state.desk.list_products()?;
    let known: Vec<String> = products.iter().map(|p| p.sku.clone()).collect();
    let new = form.existing.is_empty();
    let mut checked = form.to_product(&known);
    let sku = form.sku.trim();
    let clash = if new && known.iter().any(|k| k == sku) {
        Some("这个商品编码已存在")
    } else if !new && sku != form.existing {
        Some("商品编码不能修改")
    } else {
        None
    };
    if let Some(msg) = clash {
        let mut inv = checked.err().unwrap_or_default();
        inv.add("sku", msg);
        checked = Err(inv);
    }
    let saved = match checked {
        Ok(p) => state.desk.save_product(&Actor::user(&me.user), p).await,
        Err(inv) => Err(desk::Error::Invalid(inv)),
    };
    match saved {
        Ok(_) => Ok(redirect("/kb/products?done=saved")),
        Err(desk::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProductPage {
                ctx,
                new,
                form,
                errors,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

/// POST /kb/products/{sku}/delete
pub async fn delete(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    sku: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    state
        .desk
        .delete_product(&Actor::user(&me.user), &sku)
        .await?;
    Ok(redirect("/kb/products?done=deleted"))
}

/// GET /kb/products/export — CSV with a BOM.
pub async fn export(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
) -> Result<HttpResponse, AppError> {
    let mut out = Vec::new();
    kbfile::write_products(&mut out, &state.desk.list_products()?)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(attachment(
        &super::kb::dated_name(&state, "products", "csv")?,
        "text/csv; charset=utf-8",
        out,
    ))
}

/// POST /kb/products/import — the CSV is the body; all rows good or nothing stored.
pub async fn import(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    csrf: CsrfHeader,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    csrf.check()?;
    let body = read_upload(payload).await?;
    let products = match kbfile::read_products(&body[..]) {
        Ok(p) => p,
        Err(bad) => return Ok(import_report(Err(bad))),
    };
    match state
        .desk
        .import_products(&Actor::user(&me.user), products)
        .await
    {
        Ok(n) => Ok(import_report(Ok(serde_json::json!({ "products": n })))),
        Err(desk::Error::Invalid(inv)) => Ok(import_report(Err(inv
            .0
            .iter()
            .map(|f| (0, f.message.clone()))
            .collect()))),
        Err(e) => Err(e.into()),
    }
}
